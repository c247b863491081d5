import { renderDeep, renderString, TemplateError } from './templates.js';
import { drawVariables, SeededRandom } from './variables.js';

describe('renderString', () => {
  it('renders without HTML escaping', () => {
    expect(renderString('echo "<{{a}}>" && x', { a: 'b&c' })).toBe('echo "<b&c>" && x');
  });

  it('keeps the type of a value that is exactly one variable', () => {
    expect(renderString('{{replicas}}', { replicas: 3 })).toBe(3);
    expect(renderString(' {{ on }} ', { on: false })).toBe(false);
    expect(renderString('x{{replicas}}', { replicas: 3 })).toBe('x3');
  });

  it('rejects unknown variables with the template line', () => {
    expect(() => renderString('a\nb {{nope}}', { a: 1 })).toThrow(
      new TemplateError('"nope" is not a variable of this question', 2),
    );
    expect(() => renderString('{{nope}}', {})).toThrow(TemplateError);
  });

  it('reports syntax errors', () => {
    expect(() => renderString('{{#if x}}unclosed', { x: 1 })).toThrow(TemplateError);
  });

  it('renders nested values and keeps their shape', () => {
    expect(renderDeep({ a: ['{{n}}', { b: 'ns-{{n}}' }], c: 1 }, { n: 2 })).toEqual({
      a: [2, { b: 'ns-2' }],
      c: 1,
    });
  });
});

describe('drawVariables', () => {
  const specs = {
    ns: { namespace: 'app' },
    replicas: { int: { min: 2, max: 4 } },
    image: { oneOf: ['a', 'b', 'c'] },
    pod: { name: { prefix: 'web', length: 5 } },
    fixed: { value: 7 },
  };
  const namer = (logical: string) => `s1-${logical}`;

  it('is deterministic for a seed and varies across seeds', () => {
    const a = drawVariables(specs, 'seed-1', 'q', namer);
    expect(drawVariables(specs, 'seed-1', 'q', namer)).toEqual(a);
    const draws = new Set(
      Array.from({ length: 30 }, (_, i) =>
        JSON.stringify(drawVariables(specs, `s${i}`, 'q', namer)),
      ),
    );
    expect(draws.size).toBeGreaterThan(10);
  });

  it('draws each kind of variable within its spec', () => {
    for (let i = 0; i < 50; i++) {
      const v = drawVariables(specs, `seed-${i}`, 'q', namer);
      expect(v.ns).toBe('s1-app');
      expect([2, 3, 4]).toContain(v.replicas);
      expect(['a', 'b', 'c']).toContain(v.image);
      expect(v.pod).toMatch(/^web-[a-z2-9]{5}$/);
      expect(v.fixed).toBe(7);
    }
  });

  it('keeps a variable stable when another is added', () => {
    const before = drawVariables({ image: specs.image }, 'seed', 'q', namer);
    const after = drawVariables({ extra: specs.replicas, image: specs.image }, 'seed', 'q', namer);
    expect(after.image).toBe(before.image);
  });

  it('covers the whole range evenly enough', () => {
    const random = new SeededRandom('x', 'y');
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[random.int(0, 3)]++;
    for (const count of counts) expect(count).toBeGreaterThan(850);
  });
});

describe('template parse errors that say what to write', () => {
  const messageOf = (source: string) => {
    try {
      renderString(source, { n: 3, ns: 'a', x: true });
    } catch (error) {
      return error as TemplateError;
    }
    throw new Error('rendered without an error');
  };

  it('a variable followed by the JSON braces of a kubectl patch', () => {
    const error = messageOf(`kubectl patch deploy web -p '{"spec":{"replicas":{{n}}}}'`);
    expect(error.message).toBe(
      'Parse error on line 1: "{{n}}}}": a variable followed by "}}" reads as Handlebars\' closing "}}}". Put a space between them: "{{n}} }}" (JSON and YAML allow it)',
    );
    expect(error.line).toBe(1);
    // The advice works.
    expect(renderString(`'{"spec":{"replicas":{{n}} }}'`, { n: 3 })).toBe(
      `'{"spec":{"replicas":3 }}'`,
    );
  });

  it('a block never closed', () => {
    expect(messageOf('{{#if x}}yes').message).toBe(
      'Parse error on line 1: a block "{{#if …}}" is never closed: end it with "{{/if}}"',
    );
  });

  it('anything else names where, not only the grammar', () => {
    // Handlebars' excerpt is the text up to the error, its lines joined.
    expect(messageOf('line one\n{{ ns x').message).toBe(
      'Parse error on line 2: near "line one{{ ns x": not valid template syntax (Handlebars got INVALID there)',
    );
  });
});
