import { renderDeep, renderString, TemplateError, templateProblems } from './templates.js';
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

  it('a helper call followed by the braces of a flow map', () => {
    expect(messageOf('limits: {memory: {{mulQuantity "1Gi" n}}}').message).toBe(
      'Parse error on line 1: "{{mulQuantity "1Gi" n}}}": a helper call followed by "}" reads as Handlebars\' closing "}}}". Put a space between them: "{{mulQuantity "1Gi" n}} }" (JSON and YAML allow it)',
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

describe('template helpers for derived values', () => {
  const vars = { top: 1000, n: 3, memory: '512Mi', cpu: '250m', app: 'Web', ns: 'team-a' };
  const render = (source: string) => renderString(source, vars);
  const errorOf = (source: string) => {
    try {
      renderString(source, vars);
    } catch (error) {
      if (error instanceof TemplateError) return error;
      throw error;
    }
    throw new Error(`${source} rendered without an error`);
  };

  it('arithmetic, a number when the whole string is the call', () => {
    expect(render('{{sub top 1}}')).toBe(999);
    expect(render(' {{ add n 1 }} ')).toBe(4);
    expect(render('{{add n 1 2}}')).toBe(6);
    expect(render('{{mul n 2}}')).toBe(6);
    expect(render('{{div 7 2}}')).toBe(3);
    expect(render('{{div -7 2}}')).toBe(-3); // toward zero, as in CEL
    expect(render('{{mod 7 3}}')).toBe(1);
    expect(render('{{min 3 1 2}}')).toBe(1);
    expect(render('{{max n 9}}')).toBe(9);
    expect(render('{{add (sub top 1) 1}}')).toBe(1000);
    expect(render('priority {{sub top 1}}')).toBe('priority 999');
  });

  it('decimal arithmetic is exact', () => {
    expect(render('{{add 0.1 0.2}}')).toBe(0.3);
    expect(render('{{sub 1 0.9}}')).toBe(0.1);
    expect(render('{{mul 1.1 3}}')).toBe(3.3);
  });

  it('quantities, written as the API server writes them', () => {
    expect(render('{{mulQuantity memory 2}}')).toBe('1Gi');
    expect(render('{{mulQuantity memory 3}}')).toBe('1536Mi');
    expect(render('{{mulQuantity "1Gi" 1.5}}')).toBe('1536Mi');
    expect(render('{{divQuantity "1Gi" 4}}')).toBe('256Mi');
    expect(render('{{divQuantity "1Ki" 2}}')).toBe('512'); // binary only from 1024 on
    expect(render('{{mulQuantity cpu 2}}')).toBe('500m');
    expect(render('{{mulQuantity cpu 4}}')).toBe('1');
    expect(render('{{mulQuantity cpu 6}}')).toBe('1500m');
    expect(render('{{mulQuantity "1e3" 2}}')).toBe('2e3');
    expect(render('{{mulQuantity "1.5k" 1000}}')).toBe('1500k');
    expect(render('{{addQuantity "1Gi" memory}}')).toBe('1536Mi');
    expect(render('{{subQuantity "1" cpu}}')).toBe('750m');
    expect(render('{{subQuantity cpu cpu}}')).toBe('0');
    expect(render('limits: {memory: {{mulQuantity memory 2}} }')).toBe('limits: {memory: 1Gi }');
  });

  it('join, upper and lower', () => {
    expect(render('{{join ", " ns app n}}')).toBe('team-a, Web, 3');
    expect(renderString('{{join "," list}}', { list: ['a', 'b'] })).toBe('a,b');
    expect(render('{{upper app}}-{{lower app}}')).toBe('WEB-web');
  });

  it('a wrong argument count names the helper and how to call it', () => {
    expect(errorOf('{{sub top}}').message).toBe(
      'sub takes 2 numbers, got 1 argument: write {{sub a b}}',
    );
    expect(errorOf('{{add}}').message).toBe(
      'add takes 2 or more numbers, got 0 arguments: write {{add a b}}',
    );
    expect(errorOf('{{upper app ns}}').message).toBe(
      'upper takes 1 string, got 2 arguments: write {{upper s}}',
    );
    expect(errorOf('{{join ", "}}').message).toBe(
      'join takes a separator and 1 or more values, got 1 argument: write {{join ", " a b c}}',
    );
    expect(errorOf('{{mulQuantity memory}}').message).toBe(
      'mulQuantity takes a quantity and a number, got 1 argument: write {{mulQuantity "512Mi" 2}}',
    );
  });

  it('a value of the wrong type names the argument', () => {
    expect(errorOf('{{add top "1"}}').message).toBe(
      'add: argument 2 must be a number, got the string "1" (write 1 without quotes)',
    );
    expect(errorOf('{{max app 1}}').message).toBe(
      'max: argument 1 must be a number, got the string "Web"',
    );
    expect(errorOf('{{div 7.5 2}}').message).toBe(
      'div: argument 1 must be a whole number, got 7.5',
    );
    expect(errorOf('{{mod 7 true}}').message).toBe('mod: argument 2 must be a number, got true');
    expect(errorOf('{{upper n}}').message).toBe('upper: argument 1 must be a string, got 3');
    expect(errorOf('{{join 1 app}}').message).toBe(
      'join: argument 1 (the separator) must be a string, got 1',
    );
    expect(errorOf('{{mulQuantity "lots" 2}}').message).toBe(
      'mulQuantity: argument 1 must be a quantity such as "512Mi", "250m" or 2, got the string "lots"',
    );
    expect(errorOf('{{mulQuantity memory "2"}}').message).toBe(
      'mulQuantity: argument 2 must be a number, got the string "2" (write 2 without quotes)',
    );
  });

  it('division by zero and results that cannot be written', () => {
    expect(errorOf('{{div top 0}}').message).toBe('div: division by zero (argument 2 is 0)');
    expect(errorOf('{{mod top 0}}').message).toBe('mod: division by zero (argument 2 is 0)');
    expect(errorOf('{{divQuantity memory 0}}').message).toBe(
      'divQuantity: division by zero (argument 2 is 0)',
    );
    expect(errorOf('{{divQuantity "1" 3}}').message).toBe(
      'divQuantity: 1 / 3 is not exact to 9 decimal places (a quantity cannot be written finer than 1n); choose values that divide evenly',
    );
    expect(errorOf('{{mul 99999999999 99999999999}}').message).toBe(
      'mul: the result 9.9999999998e+21 is too large to be exact',
    );
  });

  it('an unknown helper, a misspelt variable in a call, a block or named arguments', () => {
    const unknown = errorOf('a\n  {{plus top 1}}');
    expect(unknown.message).toBe(
      '"plus" is not a template helper (helpers: add, sub, mul, div, mod, min, max, addQuantity, subQuantity, mulQuantity, divQuantity, join, upper, lower, if, unless, each, with, lookup, log)',
    );
    expect([unknown.line, unknown.column]).toEqual([2, 5]);
    expect(errorOf('{{add (plus top 1) 1}}').message).toMatch(/^"plus" is not a template helper/);
    const misspelt = errorOf('x\n {{sub tpo 1}}');
    expect(misspelt.message).toBe('"tpo" is not a variable of this question (argument 1 of sub)');
    expect([misspelt.line, misspelt.column]).toEqual([2, 2]);
    expect(errorOf('{{#add n 1}}x{{/add}}').message).toBe(
      'add is not a block helper: write {{add a b}}',
    );
    expect(errorOf('{{add n by=1}}').message).toBe(
      'add takes no named arguments (got by=): write {{add a b}}',
    );
  });
});

describe('templateProblems: every problem of a template, where it stands', () => {
  it('reports each failing expression with its line and column', () => {
    const problems = templateProblems('a {{nme}} b {{ns}}\n  {{sub top}} and {{nope 1}}', {
      ns: 'x',
      top: 3,
    });
    expect(problems.map((p) => [p.line, p.column, p.message])).toEqual([
      [1, 5, '"nme" is not a variable of this question'],
      [2, 3, 'sub takes 2 numbers, got 1 argument: write {{sub a b}}'],
      [2, 21, expect.stringContaining('"nope" is not a template helper')],
    ]);
  });

  it('is empty for a template that renders, and one problem for a syntax error', () => {
    expect(templateProblems('{{ns}}-{{add top 1}}', { ns: 'x', top: 3 })).toEqual([]);
    const [syntax, ...rest] = templateProblems('{{ns', { ns: 'x' });
    expect(rest).toEqual([]);
    expect(syntax.message).toMatch(/^Parse error on line 1/);
  });
});
