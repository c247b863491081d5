import { withTimeout } from '../common/with-timeout.js';
import type { CheckStatus } from './check-result.entity.js';
import { type Check, parseCheck } from './check.schema.js';
import type { ClusterReads } from './cluster-reads.js';
import type { Grader } from './grader-api.js';
import { evaluateAbsent } from './kinds/absent.js';
import { evaluateCommand } from './kinds/command.js';
import { evaluateEtcdSnapshot } from './kinds/etcd-snapshot.js';
import { evaluateFile } from './kinds/file.js';
import { evaluateConnectivity } from './kinds/connectivity.js';
import { evaluateLogs } from './kinds/logs.js';
import { evaluateService } from './kinds/service.js';
import { evaluateAnswer } from './kinds/answer.js';
import { evaluateCanI } from './kinds/can-i.js';
import { evaluateCount } from './kinds/count.js';
import { evaluateCustom } from './kinds/custom.js';
import { evaluateEndpoints } from './kinds/endpoints.js';
import { evaluateExpr } from './kinds/expr.js';
import { evaluatePodReady } from './kinds/pod-ready.js';
import { evaluatePvcBound } from './kinds/pvc-bound.js';
import { evaluateResource } from './kinds/resource.js';
import { evaluateRollout } from './kinds/rollout.js';
import { type CheckEnv, type HostExec, UndecidableError, type Verdict } from './kinds/verdict.js';

/** One task as the grader needs it: its rendered checks, variables and answer. */
export interface TaskToGrade {
  /** The session question's id (results key on it). */
  id: string;
  questionId: string;
  cluster: string;
  variables: Record<string, string | number | boolean>;
  answer: string | null;
  /** Rendered checks, as stored on the session (validated here by kind). */
  checks: ({ id: string; kind: string; points?: number } & Record<string, unknown>)[];
}

export interface CheckOutcome {
  checkId: string;
  kind: string;
  status: CheckStatus;
  pointsAwarded: number;
  pointsPossible: number;
  /** Empty when passed; otherwise expected vs found, or why skipped / undecided. */
  message: string;
  durationMs: number;
}

export interface RunOptions {
  /** The reads of this run for a cluster alias (shared by all checks on it). */
  readsFor(alias: string): ClusterReads;
  loadGrader(name: string): Promise<Grader>;
  /** Checks evaluated at the same time, at most. */
  concurrency: number;
  /**
   * Runtime state gets `timeout` seconds from this instant (the end of the
   * session) to settle: a failing check with a timeout is looked at again
   * until then. Grading long after the end polls nothing.
   */
  settleFrom: number;
  pollIntervalMs?: number;
  /** The longest one evaluation of one check may take (default 60 s). */
  evaluationTimeoutMs?: number;
  /**
   * What the cluster is still doing in a task's namespaces (and among the
   * session's cluster-scoped objects), or undefined when it has settled. With
   * it, a failing check is looked at again only while something is under way,
   * up to its timeout; without it, until its timeout.
   */
  activity?: (alias: string, namespaces: string[]) => Promise<string | undefined>;
  /** The session's namespaces: a task's are those of its variables' values. */
  namespaces?: readonly string[];
  /** A node of a cluster to run scripts on (a dedicated session's), for the node-level kinds. */
  hostFor?: (alias: string, node: string) => HostExec;
}

type Evaluate = (check: never, env: CheckEnv) => Promise<Verdict>;
const EVALUATORS: Record<Check['kind'], Evaluate> = {
  file: evaluateFile,
  command: evaluateCommand,
  service: evaluateService,
  etcdSnapshot: evaluateEtcdSnapshot,
  logs: evaluateLogs,
  connectivity: evaluateConnectivity,
  resource: evaluateResource,
  absent: evaluateAbsent,
  count: evaluateCount,
  expr: evaluateExpr,
  canI: evaluateCanI,
  rollout: evaluateRollout,
  podReady: evaluatePodReady,
  endpoints: evaluateEndpoints,
  pvcBound: evaluatePvcBound,
  answer: evaluateAnswer,
  custom: evaluateCustom,
};

/** The longest one evaluation of one check may take (a poll is several). */
const EVALUATION_TIMEOUT_MS = 60_000;

/**
 * How long a failing check may be looked at again by default: while the
 * cluster is still acting on the task's namespaces (see cluster-activity.ts),
 * never past this. An answer reads no cluster and decides at once.
 */
const DEFAULT_TIMEOUT_SECONDS = 15;
/** Kinds that look at something that does not settle by itself: decided at the first look. */
const NO_WAIT_KINDS: ReadonlySet<Check['kind']> = new Set([
  'answer',
  'file',
  'command',
  'etcdSnapshot',
]);

/**
 * Evaluates every check of every task. Checks run concurrently (bounded);
 * a check's verdict counts once the checks it `requires` passed, and it is
 * skipped, with the reason, if one of them did not. A check that cannot be decided (cluster
 * unreachable or forbidding, bad expression, broken grader) is `error`,
 * never `failed`.
 */
export async function runChecks(
  tasks: TaskToGrade[],
  options: RunOptions,
): Promise<Map<string, CheckOutcome[]>> {
  const slots = new Semaphore(Math.max(1, options.concurrency));
  // In task order, whatever order the tasks finish in: results are deterministic.
  const results = await Promise.all(
    tasks.map(async (task): Promise<[string, CheckOutcome[]]> => {
      const decisions = new Map<string, Promise<Decision>>();
      const byId = new Map(task.checks.map((c) => [c.id, c]));
      const decisionOf = (id: string): Promise<Decision> => {
        let decision = decisions.get(id);
        if (!decision) {
          decision = gradeOne(byId.get(id)!, task, options, slots, decisionOf, byId);
          decisions.set(id, decision);
        }
        return decision;
      };
      const decided = await Promise.all(task.checks.map((c) => decisionOf(c.id)));
      return [task.id, decided.map((d) => d.outcome)];
    }),
  );
  return new Map(results);
}

/** An outcome, and the look at the cluster that decided it. */
interface Decision {
  outcome: CheckOutcome;
  /** Decided by the check's first look (nothing was seen failing before). */
  firstLook: boolean;
  /** When that look started (performance.now()). */
  lookStartedAt: number;
}

async function gradeOne(
  raw: TaskToGrade['checks'][number],
  task: TaskToGrade,
  options: RunOptions,
  slots: Semaphore,
  decisionOf: (id: string) => Promise<Decision>,
  byId: Map<string, TaskToGrade['checks'][number]>,
): Promise<Decision> {
  const possible = typeof raw.points === 'number' ? raw.points : 1;
  const result = (
    status: CheckStatus,
    message: string,
    points = 0,
    durationMs = 0,
  ): CheckOutcome => ({
    checkId: raw.id,
    kind: raw.kind,
    status,
    pointsAwarded: points,
    pointsPossible: possible,
    message,
    durationMs,
  });
  const decidedNow = (outcome: CheckOutcome): Decision => ({
    outcome,
    firstLook: true,
    lookStartedAt: performance.now(),
  });

  const requires = (Array.isArray(raw.requires) ? raw.requires : []) as string[];
  const unknown = requires.find((id) => !byId.has(id));
  if (unknown)
    return decidedNow(result('error', `requires "${unknown}", which is not a check of this task`));
  if (!requires.length) return lookAt(raw, task, options, slots, result, {});

  // Checks only read, so a check is looked at alongside its prerequisites
  // rather than after them: a chain of `requires` (an allowed connection, then
  // a blocked one, each an exec in a pod) takes its longest link, not the sum.
  // A prerequisite that does not pass makes it skipped, as if it had waited,
  // and stops its looking again.
  let abandoned = false;
  const allPassed = Promise.all(requires.map(decisionOf)).then((all) => {
    if (!all.every((d) => d.outcome.status === 'passed')) throw new Error('not all passed');
  });
  allPassed.catch(() => undefined);
  const early = lookAt(raw, task, options, slots, result, {
    // A link whose prerequisites have passed goes ahead of checks not yet started.
    promoted: allPassed,
    abandoned: () => abandoned,
  });
  early.catch(() => undefined);
  const passed: Decision[] = [];
  for (const id of requires) {
    const prerequisite = await decisionOf(id);
    if (prerequisite.outcome.status !== 'passed') {
      abandoned = true;
      const why = { failed: 'failed', skipped: 'was skipped', error: 'could not be decided' }[
        prerequisite.outcome.status
      ];
      return decidedNow(result('skipped', `skipped: requires "${id}", which ${why}`));
    }
    passed.push(prerequisite);
  }
  // The early verdict counts only if it was taken while its prerequisites
  // held: each passed at its first look, or before this check's deciding look
  // began. Otherwise (a prerequisite that passed only once the cluster
  // settled, e.g. an allowed connection while its target restarted) it is
  // looked at again now, afresh, as if it had waited: a "denied" check must
  // not pass on the state before the "allowed" one held.
  const decision = await early;
  const held = passed.every((p) => p.firstLook || decision.lookStartedAt >= p.lookStartedAt);
  if (held) return decision;
  return lookAt(raw, task, options, slots, result, { urgent: true, fresh: true });
}

/**
 * Evaluates one check, looking again while it fails and the cluster is still
 * acting on its task (up to its timeout), until `abandoned()` says its
 * verdict no longer counts. `urgent`: its first look goes ahead of checks not
 * yet started; `promoted`: it does so once that settles, if still waiting;
 * `fresh`: nothing from the run's cache.
 */
async function lookAt(
  raw: TaskToGrade['checks'][number],
  task: TaskToGrade,
  options: RunOptions,
  slots: Semaphore,
  result: (status: CheckStatus, message: string, points?: number, ms?: number) => CheckOutcome,
  how: {
    urgent?: boolean;
    promoted?: Promise<unknown>;
    fresh?: boolean;
    abandoned?: () => boolean;
  },
): Promise<Decision> {
  const abandoned = how.abandoned ?? (() => false);
  const started = performance.now();
  let looks = 0;
  let lookStartedAt = started;
  const decided = (outcome: CheckOutcome): Decision => ({
    outcome,
    firstLook: looks <= 1,
    lookStartedAt,
  });
  const parsed = parseCheck(raw);
  if (!parsed.ok) {
    const issue = parsed.error.issues[0];
    return decided(
      result(
        'error',
        `check "${raw.id}" is invalid: ${issue.path.join('.') || raw.kind}: ${issue.message}`,
      ),
    );
  }
  const check = parsed.check;
  const timeoutMs =
    (check.timeout ?? (NO_WAIT_KINDS.has(check.kind) ? 0 : DEFAULT_TIMEOUT_SECONDS)) * 1000;
  const settleUntil = options.settleFrom + timeoutMs;
  const interval = options.pollIntervalMs ?? 500;
  let reads: ClusterReads;
  try {
    reads = options.readsFor(task.cluster);
    if (how.fresh) reads = reads.fresh();
  } catch (error) {
    // An unknown alias or a cluster without credentials: the grader cannot decide.
    return decided(result('error', `could not decide: ${(error as Error).message}`));
  }

  for (;;) {
    const env: CheckEnv = {
      reads,
      vars: task.variables,
      answer: task.answer,
      loadGrader: (name) => options.loadGrader(name),
      host: (node) => {
        if (!options.hostFor)
          throw new UndecidableError(
            `node ${node}: node hosts exist only in a dedicated environment`,
          );
        return options.hostFor(task.cluster, node);
      },
    };
    let verdict: Verdict;
    // A link of a chain (a blocked connection after the allowed one, ~1 s
    // each) goes ahead of checks that have not started, or every link would
    // queue behind them. Only its first look: a failing one polled again
    // waits its turn.
    if (looks > 0) await slots.acquire();
    else await slots.acquire(how.urgent ?? false, how.promoted);
    if (abandoned()) {
      // A prerequisite did not pass while this waited for a slot: its verdict would not count.
      slots.release();
      return decided(result('skipped', 'a prerequisite did not pass'));
    }
    lookStartedAt = performance.now();
    looks++;
    try {
      const evaluate = EVALUATORS[check.kind] as (c: Check, e: CheckEnv) => Promise<Verdict>;
      // Cluster reads are bounded on their own; this bounds a custom grader
      // (or anything else) that never answers, so a job cannot hang for good.
      verdict = await withTimeout(
        evaluate(check, env),
        options.evaluationTimeoutMs ?? EVALUATION_TIMEOUT_MS,
        `check "${check.id}" did not finish`,
      );
      if (verdict.points !== undefined && !Number.isFinite(verdict.points))
        throw new UndecidableError(`check "${check.id}" returned points ${verdict.points}`);
    } catch (error) {
      return decided(
        result('error', `could not decide: ${(error as Error).message}`, 0, elapsed(started)),
      );
    } finally {
      slots.release();
    }
    if (verdict.passed) {
      return decided(
        result('passed', verdict.message ?? '', verdict.points ?? check.points, elapsed(started)),
      );
    }
    if (
      !abandoned() &&
      Date.now() + interval <= settleUntil &&
      (await stillActing(task, options))
    ) {
      await new Promise((resolve) => setTimeout(resolve, interval));
      if (!abandoned()) {
        reads = reads.fresh();
        continue;
      }
    }
    const message = check.feedback ?? verdict.message ?? 'failed';
    return decided(result('failed', message, verdict.points ?? 0, elapsed(started)));
  }
}

/** Whether the cluster may still change what a failing check sees (always, without a probe). */
async function stillActing(task: TaskToGrade, options: RunOptions): Promise<boolean> {
  if (!options.activity) return true;
  const namespaces = Object.values(task.variables).filter(
    (v): v is string => typeof v === 'string' && (options.namespaces ?? []).includes(v),
  );
  try {
    return (await options.activity(task.cluster, namespaces)) !== undefined;
  } catch {
    // The probe could not read: look again (bounded by the timeout) rather than decide blind.
    return true;
  }
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}

/** A counting semaphore: at most `size` evaluations in flight; urgent waiters first. */
export class Semaphore {
  private waiting: (() => void)[] = [];
  private urgent: (() => void)[] = [];
  private free: number;

  constructor(size: number) {
    this.free = size;
  }

  /** `promoted`: an ordinary waiter becomes urgent when it settles (if still waiting). */
  async acquire(urgent = false, promoted?: Promise<unknown>): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => {
      (urgent ? this.urgent : this.waiting).push(resolve);
      if (urgent || !promoted) return;
      promoted.then(
        () => {
          const at = this.waiting.indexOf(resolve);
          if (at < 0) return;
          this.waiting.splice(at, 1);
          this.urgent.push(resolve);
        },
        () => undefined,
      );
    });
  }

  /**
   * Hands the slot on after the current microtasks: a check released here
   * resolves its outcome first, so the checks that required it are already
   * waiting, as urgent, when the slot is given.
   */
  release(): void {
    setImmediate(() => {
      const next = this.urgent.shift() ?? this.waiting.shift();
      if (next) next();
      else this.free++;
    });
  }
}
