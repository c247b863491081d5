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
    throw new TemplateError(message.split('\n')[0], parse ? Number(parse[1]) : undefined);
  }
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
