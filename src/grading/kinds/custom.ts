import type { CustomCheck } from '../check.schema.js';
import type {
  GraderAccessQuestion,
  GraderContext,
  LiveObject as GraderLiveObject,
  GraderObjectRef,
  GraderSelection,
} from '../grader-api.js';
import { type CheckEnv, UndecidableError, type Verdict } from './verdict.js';

/** Runs a TypeScript grader from graders/ with a read-only view of the run's reads. */
export async function evaluateCustom(check: CustomCheck, env: CheckEnv): Promise<Verdict> {
  const grader = await env.loadGrader(check.grader);
  const context: GraderContext = Object.freeze({
    vars: env.vars,
    params: Object.freeze({ ...check.params }),
    answer: env.answer,
    points: check.points,
    // Live objects are plain frozen JSON: the grader's view of them is the same data.
    get: async (ref: GraderObjectRef) => (await env.reads.get(ref)) as GraderLiveObject | undefined,
    list: async (selection: GraderSelection) =>
      (await env.reads.list(selection)) as readonly GraderLiveObject[],
    canI: async (question: GraderAccessQuestion) => (await env.reads.review(question)).allowed,
  });
  let outcome;
  try {
    outcome = await grader(context);
  } catch (error) {
    throw new UndecidableError(
      `grader ${check.grader} failed: ${(error as Error).message ?? String(error)}`,
    );
  }
  if (!outcome || typeof outcome.passed !== 'boolean')
    throw new UndecidableError(`grader ${check.grader} returned no { passed } outcome`);
  const points =
    outcome.points === undefined
      ? undefined
      : Math.max(0, Math.min(check.points, Math.round(outcome.points)));
  return { passed: outcome.passed, message: outcome.message, points };
}
