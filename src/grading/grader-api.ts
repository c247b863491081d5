/**
 * The contract of a custom grader (`graders/<name>.ts`, named by a check's
 * `grader:`). A grader gets a read-only view of the live cluster through the
 * grading run's cache (the same reads the other checks share), the
 * candidate's variables, the check's `params` and the text answer, and says
 * whether the check passed, and why not.
 *
 *     import { defineGrader } from '../src/grading/grader-api.js';
 *     export default defineGrader(async (ctx) => {
 *       const pod = await ctx.get({ apiVersion: 'v1', kind: 'Pod', name: 'web', namespace: String(ctx.vars.ns) });
 *       return pod ? { passed: true } : { passed: false, message: `Pod web not found in ${ctx.vars.ns}` };
 *     });
 *
 * Throwing (or returning a rejected promise) makes the check's status
 * `error`, never a failure: a broken grader must not cost a candidate points.
 */

import type { AccessQuestion, ObjectRef } from '../cluster/cluster-client.js';
import type { ListQuery } from './cluster-reads.js';

/** A live object as the API server returns it; deep-frozen. */
export type LiveObject = {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: Readonly<Record<string, unknown>> & {
    readonly name?: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
  };
  readonly [field: string]: unknown;
};

/** Graders name objects, lists and access questions as the engine's reads do. */
export type GraderObjectRef = ObjectRef;
export type GraderSelection = ListQuery;
/** `user` is a user name, or `system:serviceaccount:<ns>:<name>`. */
export type GraderAccessQuestion = AccessQuestion;

export interface GraderContext {
  readonly vars: Readonly<Record<string, string | number | boolean>>;
  readonly params: Readonly<Record<string, unknown>>;
  /** The candidate's submitted text for this task, if any. */
  readonly answer: string | null;
  /** The check's points: the most a partial `points` outcome can give. */
  readonly points: number;
  /** The object, or undefined if it does not exist. */
  get(ref: GraderObjectRef): Promise<LiveObject | undefined>;
  list(selection: GraderSelection): Promise<readonly LiveObject[]>;
  canI(question: GraderAccessQuestion): Promise<boolean>;
}

export interface GraderOutcome {
  passed: boolean;
  /** Shown to the candidate: what was expected and what was found. */
  message?: string;
  /** Partial credit, 0..points; default all or nothing. */
  points?: number;
}

export type Grader = (context: GraderContext) => Promise<GraderOutcome>;

/** Identity, for the types: `export default defineGrader(async (ctx) => …)`. */
export function defineGrader(grader: Grader): Grader {
  return grader;
}
