import type { CountCheck } from '../check.schema.js';
import { describeSelection } from '../selectors.js';
import { selectObjects } from './selection.js';
import { type CheckEnv, fail, pass, type Verdict } from './verdict.js';

/** The number of selected objects equals, or lies within, the bounds. */
export async function evaluateCount(check: CountCheck, env: CheckEnv): Promise<Verdict> {
  const found = (await selectObjects(check, env, check.match)).length;
  const expected =
    check.equals !== undefined
      ? { ok: found === check.equals, text: `${check.equals}` }
      : {
          ok:
            (check.min === undefined || found >= check.min) &&
            (check.max === undefined || found <= check.max),
          text:
            check.min !== undefined && check.max !== undefined
              ? `between ${check.min} and ${check.max}`
              : check.min !== undefined
                ? `at least ${check.min}`
                : `at most ${check.max}`,
        };
  if (expected.ok) return pass();
  const matching = check.match ? ' matching the expected fields' : '';
  return fail(`expected ${expected.text} ${describeSelection(check)}${matching}, found ${found}`);
}
