import { createHash } from 'node:crypto';
import type { VariableSpec } from './question.schema.js';

/**
 * A deterministic random stream: sha256(seed, stream, counter) → [0, 1).
 * Each variable draws from its own stream, so adding a variable to a question
 * never changes what the others draw for an existing seed.
 */
export class SeededRandom {
  private counter = 0;

  constructor(
    private readonly seed: string,
    private readonly stream: string,
  ) {}

  next(): number {
    const digest = createHash('sha256')
      .update(`${this.seed}\0${this.stream}\0${this.counter++}`)
      .digest();
    // 48 bits are plenty and stay exact in a double.
    return digest.readUIntBE(0, 6) / 2 ** 48;
  }

  /** An integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)];
  }
}

const NAME_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';

/** How logical namespace names become physical ones; provisioning owns the prefix. */
export type NamespaceNamer = (logical: string) => string;

/**
 * Draws every variable of one question for one candidate. Namespace variables
 * become the session's physical namespace names.
 */
export function drawVariables(
  specs: Record<string, VariableSpec>,
  seed: string,
  questionId: string,
  namespaceName: NamespaceNamer,
): Record<string, string | number | boolean> {
  const values: Record<string, string | number | boolean> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const random = new SeededRandom(seed, `${questionId}/${name}`);
    if ('namespace' in spec) values[name] = namespaceName(spec.namespace);
    else if ('oneOf' in spec) values[name] = random.pick(spec.oneOf);
    else if ('int' in spec) values[name] = random.int(spec.int.min, spec.int.max);
    else if ('name' in spec) {
      let suffix = '';
      for (let i = 0; i < spec.name.length; i++) suffix += random.pick(NAME_ALPHABET.split(''));
      values[name] = `${spec.name.prefix}-${suffix}`;
    } else values[name] = spec.value;
  }
  return values;
}
