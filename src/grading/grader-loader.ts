import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Grader } from './grader-api.js';
import { UndecidableError } from './kinds/verdict.js';

/** Where `nest build` puts the compiled graders (dist/graders beside dist/src). */
const COMPILED_GRADERS = resolve(dirname(fileURLToPath(import.meta.url)), '../../graders');
/** The repository's graders folder, whether this file runs from src/ or dist/src/. */
const SOURCE_GRADERS = resolve(
  dirname(fileURLToPath(import.meta.url)),
  COMPILED_GRADERS.includes('/dist/') ? '../../../graders' : '../../graders',
);

/**
 * Loads custom graders by name, once each. The compiled JavaScript is
 * preferred (a production build runs plain node); the TypeScript source is
 * used where a TypeScript loader is in place (tsx, Jest).
 */
export class GraderLoader {
  private readonly loaded = new Map<string, Promise<Grader>>();

  constructor(private readonly gradersDir: string) {}

  load(name: string): Promise<Grader> {
    let grader = this.loaded.get(name);
    if (!grader) {
      grader = this.import(name);
      grader.catch(() => this.loaded.delete(name));
      this.loaded.set(name, grader);
    }
    return grader;
  }

  private async import(name: string): Promise<Grader> {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(name))
      throw new UndecidableError(`"${name}" is not a grader name`);
    // The configured folder wins; the build's compiled copies stand in only
    // for the repository's own graders folder (a plain-node production run).
    const shipped = resolve(this.gradersDir) === SOURCE_GRADERS;
    const candidates = [
      join(this.gradersDir, `${name}.js`),
      ...(shipped ? [join(COMPILED_GRADERS, `${name}.js`)] : []),
      join(this.gradersDir, `${name}.ts`),
    ];
    const file = candidates.find((path) => existsSync(path));
    if (!file) throw new UndecidableError(`grader "${name}" not found in ${this.gradersDir}`);
    let module: { default?: unknown };
    try {
      module = (await import(pathToFileURL(file).href)) as { default?: unknown };
    } catch (error) {
      throw new UndecidableError(
        `grader "${name}" could not be loaded: ${(error as Error).message}`,
      );
    }
    if (typeof module.default !== 'function')
      throw new UndecidableError(`grader "${name}" has no default export made with defineGrader()`);
    return module.default as Grader;
  }
}
