import type { ClusterReads } from '../cluster-reads.js';
import type { Grader } from '../grader-api.js';

/** What a check kind decides: passed, or failed with what was expected and found. */
export interface Verdict {
  passed: boolean;
  message?: string;
  /** Partial credit (custom graders); default all or nothing. */
  points?: number;
}

/** A command run as root on a node host, to completion. */
export interface HostExec {
  (script: string, timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }>;
}

/** Everything a check may look at. */
export interface CheckEnv {
  reads: ClusterReads;
  vars: Readonly<Record<string, string | number | boolean>>;
  answer: string | null;
  loadGrader(name: string): Promise<Grader>;
  /**
   * A node of the task's cluster, to run a script on as root (dedicated
   * environments). Throws when there is none or it cannot be reached: the
   * check is then undecided, never the candidate's failure.
   */
  host(node: string): HostExec;
}

/**
 * The grader could not decide (bad expression, broken custom grader, a
 * selector it cannot parse…). Reported as status `error` with the reason;
 * never scored as the candidate's failure. Cluster errors count the same.
 */
export class UndecidableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UndecidableError';
  }
}

export const pass = (): Verdict => ({ passed: true });
export const fail = (message: string): Verdict => ({ passed: false, message });

/** `Deployment web in ns-x` / `PersistentVolume pv-1`. */
export function describeObject(kind: string, name: string, namespace?: string): string {
  return `${kind} ${name}${namespace ? ` in ${namespace}` : ''}`;
}
