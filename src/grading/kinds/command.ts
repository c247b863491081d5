import type { CommandCheck } from '../check.schema.js';
import { multiLineMatch } from '../safe-regex.js';
import { type CheckEnv, fail, pass, type Verdict } from './verdict.js';

/** A script run as root on a node: its exit code, and its output by pattern. */
export async function evaluateCommand(check: CommandCheck, env: CheckEnv): Promise<Verdict> {
  const result = await env.host(check.node)(check.command, check.runTimeout * 1000);
  const tail = (text: string) => text.trim().split('\n').slice(-3).join(' | ');
  if (result.code !== check.exitCode)
    return fail(
      `on ${check.node}, the command exited ${result.code}, expected ${check.exitCode}` +
        (result.stderr.trim() ? `: ${tail(result.stderr)}` : ''),
    );
  if (check.stdout !== undefined && !multiLineMatch(check.stdout, result.stdout))
    return fail(
      `on ${check.node}, the command printed nothing matching /${check.stdout}/` +
        (result.stdout.trim() ? ` (it printed: ${tail(result.stdout)})` : ' (it printed nothing)'),
    );
  return pass();
}
