import type { KubernetesObject } from '@kubernetes/client-node';
import type { AccessQuestion, ClusterClient, ObjectRef } from '../cluster/cluster-client.js';

/** A live object as the grader sees it: plain JSON, never mutated. */
export type LiveObject = KubernetesObject & Record<string, unknown>;

export interface ListQuery {
  apiVersion: string;
  kind: string;
  namespace?: string;
  labelSelector?: string;
}

/**
 * The reads of one grading run against one cluster. Each distinct object,
 * list or access review is fetched once and shared by every check that asks
 * (concurrent askers share the same in-flight request), so a 20-task exam
 * costs one request per thing it looks at, not one per check. Objects are
 * deep-frozen: a check (or a custom grader) cannot change what another sees.
 *
 * A polling check asks for {@link fresh} reads on its next attempt.
 */
export class ClusterReads {
  private readonly cache = new Map<string, Promise<unknown>>();

  constructor(
    readonly cluster: ClusterClient,
    /** Shared with the fresh reads of polling checks, so a run counts all it sent. */
    private readonly sent = { requests: 0 },
  ) {}

  /** Requests actually sent by this run (for the run's record, tests and the benchmark). */
  get requests(): number {
    return this.sent.requests;
  }

  set requests(value: number) {
    this.sent.requests = value;
  }

  get(ref: ObjectRef): Promise<LiveObject | undefined> {
    const key = `get\0${ref.apiVersion}\0${ref.kind}\0${ref.namespace ?? ''}\0${ref.name}`;
    return this.once(key, async () => freeze(await this.cluster.readJson<LiveObject>(ref)));
  }

  list(query: ListQuery): Promise<readonly LiveObject[]> {
    const key = `list\0${query.apiVersion}\0${query.kind}\0${query.namespace ?? ''}\0${query.labelSelector ?? ''}`;
    return this.once(key, async () =>
      freeze(
        await this.cluster.listJson<LiveObject>(query.apiVersion, query.kind, {
          namespace: query.namespace,
          labelSelector: query.labelSelector,
        }),
      ),
    );
  }

  review(question: AccessQuestion): Promise<{ allowed: boolean; reason: string }> {
    const key = `review\0${JSON.stringify(question)}`;
    return this.once(key, () => this.cluster.review(question));
  }

  podLog(
    namespace: string,
    name: string,
    options: { container?: string; previous?: boolean } = {},
  ): Promise<{ log: string } | { missing: string }> {
    const key = `log\0${namespace}\0${name}\0${options.container ?? ''}\0${options.previous ? 1 : 0}`;
    return this.once(key, () => this.cluster.podLog(namespace, name, options));
  }

  /**
   * Runs a command in a container (connectivity probes). Never shared: each
   * ask is a new run, as the answer may change between looks.
   */
  podExec(
    namespace: string,
    pod: string,
    container: string,
    command: string[],
    timeoutMs: number,
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    this.requests++;
    return this.cluster.podExec(namespace, pod, container, command, timeoutMs);
  }

  /** Reads that bypass what this run has seen so far (a polling check's next look). */
  fresh(): ClusterReads {
    return new ClusterReads(this.cluster, this.sent);
  }

  private once<T>(key: string, load: () => Promise<T>): Promise<T> {
    let entry = this.cache.get(key) as Promise<T> | undefined;
    if (!entry) {
      this.requests++;
      entry = load();
      // A failed read is not cached: a retry (or another check) asks again.
      entry.catch(() => this.cache.delete(key));
      this.cache.set(key, entry);
    }
    return entry;
  }
}

function freeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) freeze(item);
  }
  return value;
}
