import {
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node as YamlNode,
  parseDocument,
  Scalar,
  type Document,
} from 'yaml';

export type PathKey = string | number;

/** A parsed YAML file that can say where any value came from (1-based line and column). */
export class YamlSource {
  readonly document: Document.Parsed;
  private readonly lines = new LineCounter();

  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    this.document = parseDocument(text, {
      lineCounter: this.lines,
      prettyErrors: false,
      uniqueKeys: true,
    });
  }

  /** YAML syntax errors with their positions. */
  syntaxErrors(): { line: number; column: number; message: string }[] {
    return this.document.errors.map((error) => {
      const pos = error.linePos?.[0] ?? this.lines.linePos(error.pos[0]);
      return { line: pos.line, column: pos.col, message: error.message.split('\n')[0] };
    });
  }

  toJS(): unknown {
    return this.document.toJS();
  }

  /**
   * Position of the value at `path`; if that value is missing, of the nearest
   * ancestor that exists (where the missing key would go). With `key`, the
   * position of the named key inside the map at `path` instead.
   */
  position(path: readonly PathKey[], key?: string): { line: number; column: number } {
    let node: unknown = this.document.contents;
    let found = node;
    for (const step of path) {
      node = this.child(node, step);
      if (node === undefined) break;
      found = node;
    }
    if (key !== undefined && isMap(found)) {
      const pair = found.items.find((item) => isScalar(item.key) && item.key.value === key);
      if (pair && isScalar(pair.key) && pair.key.range) return this.at(pair.key.range[0]);
    }
    const range = (found as YamlNode | undefined)?.range;
    return range ? this.at(range[0]) : { line: 1, column: 1 };
  }

  /**
   * Where line `templateLine`, column `templateColumn` (both 1-based) of the
   * string at `path` is in the file: block scalars (`|`, `>`) start on the
   * line after their indicator, a quoted string one column after its quote.
   * Without a column, the start of that line's text.
   */
  stringLinePosition(
    path: readonly PathKey[],
    templateLine = 1,
    templateColumn?: number,
  ): { line: number; column: number } {
    const start = this.position(path);
    let node: unknown = this.document.contents;
    for (const step of path) node = this.child(node, step);
    const block =
      isScalar(node) && (node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED);
    const quoted =
      isScalar(node) && (node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE);
    if (!block && templateLine <= 1)
      return {
        line: start.line,
        column: start.column + (quoted ? 1 : 0) + (templateColumn ?? 1) - 1,
      };
    const line = start.line + templateLine - (block ? 0 : 1);
    const text = this.text.split('\n')[line - 1] ?? '';
    return { line, column: text.length - text.trimStart().length + (templateColumn ?? 1) };
  }

  private child(node: unknown, step: PathKey): unknown {
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && item.key.value === step);
      return pair?.value ?? undefined;
    }
    if (isSeq(node) && typeof step === 'number') return node.items[step];
    return undefined;
  }

  private at(offset: number): { line: number; column: number } {
    const pos = this.lines.linePos(offset);
    return { line: pos.line, column: pos.col };
  }
}
