import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The built files of one entry of the web build, as pages link them. */
export interface WebEntry {
  script: string;
  styles: string[];
}

interface ManifestChunk {
  file: string;
  css?: string[];
  isEntry?: boolean;
}

const cache = new Map<string, WebEntry | undefined>();

/**
 * An entry of the web build by its source path (e.g. `src/replay/replay.ts`),
 * from Vite's manifest: its hashed script and styles under /assets/. Pages
 * the server renders (the staff report's recording player) link them, so
 * they are served, cached and CSP-checked like the console's own.
 * Undefined without a web build.
 */
export function webEntry(webRoot: string, source: string): WebEntry | undefined {
  const key = `${webRoot}|${source}`;
  if (cache.has(key)) return cache.get(key);
  const path = join(webRoot, '.vite', 'manifest.json');
  let entry: WebEntry | undefined;
  if (existsSync(path)) {
    const manifest = JSON.parse(readFileSync(path, 'utf8')) as Record<string, ManifestChunk>;
    const chunk = manifest[source];
    if (chunk?.isEntry) {
      entry = { script: `/${chunk.file}`, styles: (chunk.css ?? []).map((css) => `/${css}`) };
    }
  }
  cache.set(key, entry);
  return entry;
}
