// Run after every `npm install` that changes dependencies: `npm run lock:complete`.
//
// The npm registry these machines reach holds some packages' native builds for
// linux-x64 only (oxlint's and jest's unrs-resolver bindings): for the other
// platforms it answers 404, so `npm install` leaves those optional packages out
// of package-lock.json, and `npm ci` then refuses the lockfile as out of sync
// ("Missing: @oxlint/binding-darwin-arm64@ from lock file"). This adds an
// optional placeholder entry, name and version only, for each such package;
// npm ci accepts the lockfile and skips them as optional on this platform.
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const packages = lock.packages;
const added = [];
for (const [key, entry] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    if (packages[`${key}/node_modules/${name}`] || packages[`node_modules/${name}`]) continue;
    packages[`node_modules/${name}`] = { version, ...(entry.dev ? { dev: true } : {}), optional: true };
    added.push(`${name}@${version}`);
  }
}
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(added.length ? `added placeholders: ${added.join(', ')}` : 'lockfile already complete');
