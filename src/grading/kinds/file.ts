import { parse as parseYaml } from 'yaml';
import type { FileCheck } from '../check.schema.js';
import { formatMismatch, matchObject, MatchSpecError } from '../match.js';
import { multiLineMatch } from '../safe-regex.js';
import { shellQuote } from '../../common/shell-quote.js';
import { type CheckEnv, fail, pass, UndecidableError, type Verdict } from './verdict.js';

/** What is read of a file: the content past this is not looked at. */
const MAX_BYTES = 1024 * 1024;
const TIMEOUT_MS = 15_000;

/**
 * A file on a node host: there or not, its mode and owner, its content by
 * pattern or as YAML/JSON matched like a resource.
 */
export async function evaluateFile(check: FileCheck, env: CheckEnv): Promise<Verdict> {
  const path = shellQuote(check.path);
  // One round trip: stat's line (or a marker), then the content.
  const script =
    `if [ -e ${path} ] || [ -L ${path} ]; then stat -L -c 'stat %a %U %u %F' -- ${path} 2>/dev/null || echo 'stat ? ? ? broken link'; ` +
    `if [ -f ${path} ]; then head -c ${MAX_BYTES} -- ${path}; fi; else echo missing; fi`;
  const result = await env.host(check.node)(script, TIMEOUT_MS);
  if (result.code !== 0)
    throw new UndecidableError(
      `reading ${check.path} on ${check.node} failed: ${result.stderr.trim()}`,
    );
  const newline = result.stdout.indexOf('\n');
  const head = newline < 0 ? result.stdout : result.stdout.slice(0, newline);
  const where = `${check.path} on ${check.node}`;
  if (head === 'missing') return check.exists ? fail(`${where} does not exist`) : pass();
  if (!check.exists) return fail(`${where} exists, and should not`);
  const [, mode, user, uid, ...type] = head.split(' ');
  if (type.join(' ') === 'broken link') return fail(`${where} is a symbolic link to nothing`);
  const content = result.stdout.slice(newline + 1);
  if (check.mode !== undefined && parseInt(mode, 8) !== parseInt(check.mode, 8))
    return fail(`${where} has mode ${mode}, expected ${check.mode.replace(/^0(?=\d{3}$)/, '')}`);
  if (check.owner !== undefined && check.owner !== user && check.owner !== uid)
    return fail(`${where} is owned by ${user}, expected ${check.owner}`);
  const kind = type.join(' ');
  if ((check.contains !== undefined || check.match !== undefined) && !kind.startsWith('regular'))
    return fail(`${where} is a ${kind}, not a file`);
  if (check.contains !== undefined) {
    if (!multiLineMatch(check.contains, content))
      return fail(`${where} has nothing matching /${check.contains}/`);
  }
  if (check.match !== undefined) {
    let parsed: unknown;
    try {
      parsed = parseYaml(content);
    } catch (error) {
      return fail(`${where} is not valid YAML or JSON: ${(error as Error).message.split('\n')[0]}`);
    }
    try {
      const mismatches = matchObject(check.match, parsed, { lists: check.lists });
      if (mismatches.length)
        return fail(`${where}: ${mismatches.slice(0, 3).map(formatMismatch).join('; ')}`);
    } catch (error) {
      if (error instanceof MatchSpecError) throw new UndecidableError(error.message);
      throw error;
    }
  }
  return pass();
}
