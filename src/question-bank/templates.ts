import Handlebars from 'handlebars';

/**
 * Question text, setup manifests, checks and solutions are Handlebars
 * templates over the candidate's variables. Strict mode turns a misspelt
 * variable into an error (at lint time, not an empty string in an exam), and
 * nothing is HTML-escaped: the output is YAML, shell and markdown, and the
 * HTML report escapes on its own when it renders.
 */
const handlebars = Handlebars.create();
const OPTIONS = { strict: true, noEscape: true } as const;

/** A string that is exactly one variable keeps that variable's type. */
const WHOLE_VARIABLE = /^\s*\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}\s*$/;

export class TemplateError extends Error {
  constructor(
    message: string,
    /** 1-based line inside the template, when Handlebars says. */
    readonly line?: number,
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}

const cache = new Map<string, Handlebars.TemplateDelegate>();

function compiled(source: string): Handlebars.TemplateDelegate {
  let template = cache.get(source);
  if (!template) {
    template = handlebars.compile(source, OPTIONS);
    cache.set(source, template);
  }
  return template;
}

/** Renders one string; throws TemplateError for syntax errors and unknown variables. */
export function renderString(source: string, vars: Record<string, unknown>): unknown {
  const whole = WHOLE_VARIABLE.exec(source);
  if (whole) {
    if (!(whole[1] in vars))
      throw new TemplateError(`"${whole[1]}" is not a variable of this question`, 1);
    return vars[whole[1]];
  }
  try {
    return compiled(source)(vars);
  } catch (error) {
    const message = (error as Error).message;
    // Handlebars: '"nme" not defined in [object Object] - 1:10' or 'Parse error on line 2: ...'.
    const notDefined = /^"([^"]+)" not defined in .* - (\d+):\d+/.exec(message);
    if (notDefined) {
      throw new TemplateError(
        `"${notDefined[1]}" is not a variable of this question`,
        Number(notDefined[2]),
      );
    }
    const parse = /Parse error on line (\d+)/.exec(message);
    if (!parse) throw new TemplateError(message.split('\n')[0]);
    throw new TemplateError(parseErrorMessage(source, message), Number(parse[1]));
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
  // `{"replicas":{{n}}}}`: the variable's `}}` and the JSON's `}}` read as `}}}}`.
  const glued = /(?<!\{)\{\{\s*([A-Za-z_][\w.]*)\s*\}\}\}+/.exec(source);
  if (glued && (got === 'CLOSE_RAW_BLOCK' || got === 'CLOSE_UNESCAPED')) {
    const variable = glued[0].slice(0, glued[0].indexOf('}}') + 2);
    const rest = glued[0].slice(variable.length);
    return (
      `${first} "${glued[0]}": a variable followed by "${rest}" reads as Handlebars' closing ` +
      `"}}}". Put a space between them: "${variable} ${rest}" (JSON and YAML allow it)`
    );
  }
  const block = /\{\{#\s*([A-Za-z]+)/.exec(source);
  if (got === 'EOF' && block) {
    return `${first} a block "{{#${block[1]} …}}" is never closed: end it with "{{/${block[1]}}}"`;
  }
  return `${first} near "${excerpt.replace(/^\.\.\./, '').trim()}": not valid template syntax (Handlebars got ${got ?? 'something else'} there)`;
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
