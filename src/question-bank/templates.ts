import Handlebars from 'handlebars';
import {
  handlebarsHelpers,
  HelperError,
  isTemplateHelper,
  TEMPLATE_HELPER_NAMES,
  type CallLocation,
} from './template-helpers.js';

/**
 * Question text, setup manifests, checks and solutions are Handlebars
 * templates over the candidate's variables. Strict mode turns a misspelt
 * variable into an error (at lint time, not an empty string in an exam), and
 * nothing is HTML-escaped: the output is YAML, shell and markdown, and the
 * HTML report escapes on its own when it renders.
 */
const handlebars = Handlebars.create();
handlebars.registerHelper(handlebarsHelpers());
const OPTIONS = { strict: true, noEscape: true } as const;

/** A string that is exactly one variable keeps that variable's type. */
const WHOLE_VARIABLE = /^\s*\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}\s*$/;
/**
 * The runtime-only helper through which a string that is exactly one helper
 * call (`"{{sub top 1}}"`) hands back the call's value untouched.
 */
const KEEP = 'keep value';

export class TemplateError extends Error {
  constructor(
    message: string,
    /** 1-based line inside the template, when Handlebars says. */
    readonly line?: number,
    /** 1-based column inside that line, when known. */
    readonly column?: number,
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}

interface Compiled {
  template: Handlebars.TemplateDelegate;
  /** The template is one helper call whose value is returned as it is (a number stays one). */
  keepsValue: boolean;
}

const cache = new Map<string, Compiled>();

function compiled(source: string): Compiled {
  let entry = cache.get(source);
  if (!entry) {
    const call = wholeHelperCall(source);
    entry = {
      template: handlebars.compile(call ?? source, OPTIONS),
      keepsValue: call !== undefined,
    };
    cache.set(source, entry);
  }
  return entry;
}

/**
 * A string that is exactly one call of a helper, rewritten as
 * `{{KEEP (helper args…)}}` with the call's own positions, so that errors
 * point where the author wrote them; undefined for any other string.
 */
function wholeHelperCall(source: string): hbs.AST.Program | undefined {
  if (!/^\s*\{\{[^]*\}\}\s*$/.test(source) || source.split('{{').length !== 2) return undefined;
  const program = handlebars.parse(source);
  const statements = program.body.filter(
    (statement) =>
      statement.type !== 'ContentStatement' ||
      (statement as hbs.AST.ContentStatement).value.trim() !== '',
  );
  const [call] = statements as hbs.AST.MustacheStatement[];
  if (statements.length !== 1 || call.type !== 'MustacheStatement') return undefined;
  const path = call.path as hbs.AST.PathExpression;
  if (path.type !== 'PathExpression' || !isTemplateHelper(path.original)) return undefined;
  const keep = {
    type: 'MustacheStatement',
    path: {
      type: 'PathExpression',
      data: false,
      depth: 0,
      parts: [KEEP],
      original: KEEP,
      loc: call.loc,
    },
    params: [{ type: 'SubExpression', path, params: call.params, hash: call.hash, loc: call.loc }],
    escaped: false,
    strip: { open: false, close: false },
    loc: call.loc,
  } as unknown as hbs.AST.MustacheStatement;
  return { ...program, body: [keep] };
}

/** Renders one string; throws TemplateError for syntax errors, unknown variables and helpers misused. */
export function renderString(source: string, vars: Record<string, unknown>): unknown {
  const whole = WHOLE_VARIABLE.exec(source);
  if (whole && !isTemplateHelper(whole[1])) {
    if (!(whole[1] in vars)) {
      const before = source.slice(0, source.indexOf(whole[1], source.indexOf('{{')));
      const line = before.split('\n').length;
      throw new TemplateError(
        `"${whole[1]}" is not a variable of this question`,
        line,
        before.length - before.lastIndexOf('\n'),
      );
    }
    return vars[whole[1]];
  }
  try {
    const { template, keepsValue } = compiled(source);
    if (!keepsValue) return template(vars);
    let value: unknown;
    template(vars, {
      helpers: {
        [KEEP]: (result: unknown) => {
          value = result;
          return '';
        },
      },
    });
    return value;
  } catch (error) {
    if (error instanceof HelperError) throw helperProblem(source, error);
    const message = (error as Error).message;
    // Handlebars: '"nme" not defined in [object Object] - 1:10' or 'Parse error on line 2: ...'.
    const notDefined = /^"([^"]+)" not defined in .* - (\d+):(\d+)/.exec(message);
    if (notDefined) {
      const [, name, line, column] = notDefined;
      throw new TemplateError(
        findNode(
          source,
          (node) => isCall(node) && node.path.original === name && hasArguments(node),
        )
          ? `"${name}" is not a template helper (helpers: ${TEMPLATE_HELPER_NAMES.join(', ')})`
          : `"${name}" is not a variable of this question`,
        Number(line),
        Number(column) + 1,
      );
    }
    const parse = /Parse error on line (\d+)/.exec(message);
    if (!parse) throw new TemplateError(message.split('\n')[0]);
    throw new TemplateError(parseErrorMessage(source, message), Number(parse[1]));
  }
}

/**
 * Every problem of a template, for lint: rendering stops at the first, so
 * after a failure each top-level expression is rendered on its own and its
 * problems are placed where it stands in the template. A syntax error stays
 * the one problem (nothing after it parses).
 */
export function templateProblems(source: string, vars: Record<string, unknown>): TemplateError[] {
  try {
    renderString(source, vars);
    return [];
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    let program: hbs.AST.Program;
    try {
      program = handlebars.parse(source);
    } catch {
      return [error];
    }
    const lineStarts = [0];
    for (let i = 0; i < source.length; i++) if (source[i] === '\n') lineStarts.push(i + 1);
    const offset = (pos: hbs.AST.Position) => lineStarts[pos.line - 1] + pos.column;
    const problems: TemplateError[] = [];
    for (const statement of program.body) {
      if (statement.type !== 'MustacheStatement' && statement.type !== 'BlockStatement') continue;
      const { start, end } = statement.loc;
      try {
        renderString(source.slice(offset(start), offset(end)), vars);
      } catch (part) {
        if (!(part instanceof TemplateError)) throw part;
        const line = start.line + (part.line ?? 1) - 1;
        const column =
          (part.line ?? 1) === 1 ? start.column + (part.column ?? 1) : (part.column ?? 1);
        problems.push(new TemplateError(part.message, line, column));
      }
    }
    return problems.length ? problems : [error];
  }
}

/**
 * Handlebars' parse errors name grammar tokens ("Expecting 'CLOSE', …, got
 * 'CLOSE_RAW_BLOCK'"); the common causes in questions get a message that
 * says what to write instead.
 */
function parseErrorMessage(source: string, message: string): string {
  const [first, excerpt = ''] = message.split('\n');
  const got = /got '([A-Z_]+)'/.exec(message)?.[1];
  // `{"replicas":{{n}}}}`: the variable's `}}` and the JSON's `}}` read as `}}}}`; the same
  // for a helper call (`{memory: {{mulQuantity m 2}}}`).
  const glued = /(?<!\{)\{\{\s*([A-Za-z_][\w.]*)((?:\s+[^{}\s]+)*)\s*\}\}\}+/.exec(source);
  if (glued && (got === 'CLOSE_RAW_BLOCK' || got === 'CLOSE_UNESCAPED')) {
    const variable = glued[0].slice(0, glued[0].indexOf('}}') + 2);
    const rest = glued[0].slice(variable.length);
    return (
      `${first} "${glued[0]}": a ${glued[2] ? 'helper call' : 'variable'} followed by "${rest}" ` +
      `reads as Handlebars' closing "}}}". Put a space between them: "${variable} ${rest}" ` +
      '(JSON and YAML allow it)'
    );
  }
  const block = /\{\{#\s*([A-Za-z]+)/.exec(source);
  if (got === 'EOF' && block) {
    return `${first} a block "{{#${block[1]} …}}" is never closed: end it with "{{/${block[1]}}}"`;
  }
  return `${first} near "${excerpt.replace(/^\.\.\./, '').trim()}": not valid template syntax (Handlebars got ${got ?? 'something else'} there)`;
}

/** A helper's complaint, naming the variable when an argument was not one. */
function helperProblem(source: string, error: HelperError): TemplateError {
  const line = error.loc?.start.line;
  const column = error.loc ? error.loc.start.column + 1 : undefined;
  const index = error.undefinedArgument;
  if (index !== undefined && error.loc) {
    const call = findNode(source, (node) => isCall(node) && sameLocation(node.loc, error.loc));
    const argument = call?.params[index] as hbs.AST.PathExpression | undefined;
    if (argument?.type === 'PathExpression') {
      return new TemplateError(
        `"${argument.original}" is not a variable of this question (argument ${index + 1} of ${error.helper})`,
        line,
        column,
      );
    }
  }
  return new TemplateError(error.message, line, column);
}

type Call = hbs.AST.MustacheStatement | hbs.AST.SubExpression | hbs.AST.BlockStatement;

function isCall(node: { type?: unknown }): node is Call & { path: hbs.AST.PathExpression } {
  return (
    ['MustacheStatement', 'SubExpression', 'BlockStatement'].includes(String(node.type)) &&
    (node as Call).path.type === 'PathExpression'
  );
}

function hasArguments(call: Call): boolean {
  return call.params.length > 0 || (call.hash?.pairs.length ?? 0) > 0;
}

function sameLocation(a: hbs.AST.SourceLocation, b: CallLocation | undefined): boolean {
  return (
    !!b &&
    a.start.line === b.start.line &&
    a.start.column === b.start.column &&
    a.end.line === b.end.line &&
    a.end.column === b.end.column
  );
}

/** The first node of the parsed template that satisfies `test`, depth first. */
function findNode(source: string, test: (node: Call) => boolean): Call | undefined {
  let program: hbs.AST.Program;
  try {
    program = handlebars.parse(source);
  } catch {
    return undefined;
  }
  const visit = (node: unknown): Call | undefined => {
    if (Array.isArray(node)) {
      for (const item of node) {
        const found = visit(item);
        if (found) return found;
      }
      return undefined;
    }
    if (!node || typeof node !== 'object') return undefined;
    if (isCall(node) && test(node)) return node;
    for (const [key, value] of Object.entries(node)) {
      if (key === 'loc') continue;
      const found = visit(value);
      if (found) return found;
    }
    return undefined;
  };
  return visit(program);
}

/** Renders every string inside a value (objects and arrays walked), keeping the shape. */
export function renderDeep<T>(value: T, vars: Record<string, unknown>): T {
  if (typeof value === 'string') return renderString(value, vars) as T;
  if (Array.isArray(value)) return value.map((item) => renderDeep(item, vars)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, renderDeep(item, vars)]),
    ) as T;
  }
  return value;
}
