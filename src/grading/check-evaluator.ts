import { Inject, Injectable } from '@nestjs/common';
import type { ClusterClient } from '../cluster/cluster-client.js';
import { ClusterService } from '../cluster/cluster.service.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { type CheckOutcome, runChecks, type TaskToGrade } from './check-runner.js';
import { activityIn } from './cluster-activity.js';
import { ClusterReads } from './cluster-reads.js';
import type { Grader } from './grader-api.js';
import { GraderLoader } from './grader-loader.js';
import type { HostExec } from './kinds/verdict.js';

export interface Evaluation {
  /** By task id. */
  outcomes: Map<string, CheckOutcome[]>;
  /** Distinct API requests made. */
  requests: number;
  durationMs: number;
}

/**
 * Evaluates tasks against the live clusters with one shared read cache per
 * cluster per run, and stores nothing: grading runs, bank:test and the
 * grading benchmark all evaluate through it.
 */
@Injectable()
export class CheckEvaluator {
  private readonly graders: GraderLoader;

  constructor(
    private readonly clusters: ClusterService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.graders = new GraderLoader(config.bank.gradersDir);
  }

  /** A custom grader from the configured graders folder (loaded once). */
  loadGrader(name: string): Promise<Grader> {
    return this.graders.load(name);
  }

  /**
   * `settleFrom`: when the candidate stopped (a failing check may be looked at
   * again, while the cluster is still acting, until its timeout from then).
   * `scope`: the session's namespaces and prefix, where that activity is looked for.
   */
  async evaluate(
    tasks: TaskToGrade[],
    settleFrom: number,
    scope?: SessionScope,
  ): Promise<Evaluation> {
    const started = performance.now();
    const reads = new Map<string, ClusterReads>();
    const readsFor = (alias: string) => {
      let forAlias = reads.get(alias);
      if (!forAlias) {
        forAlias = new ClusterReads(scope?.clients?.get(alias) ?? this.clusters.client(alias));
        reads.set(alias, forAlias);
      }
      return forAlias;
    };
    const outcomes = await runChecks(tasks, {
      readsFor,
      loadGrader: (name) => this.loadGrader(name),
      concurrency: this.config.grading.checkConcurrency,
      settleFrom,
      namespaces: scope?.namespaces,
      hostFor: scope?.hosts,
      // Without a scope (a check evaluated outside a session) nothing tells
      // settled from busy: a failing check is looked at until its timeout.
      activity: scope && activityProbe((alias) => readsFor(alias).fresh(), scope.prefix),
    });
    return {
      outcomes,
      requests: [...reads.values()].reduce((sum, r) => sum + r.requests, 0),
      durationMs: Math.round(performance.now() - started),
    };
  }
}

/** Where a session's cluster activity is looked for. */
export interface SessionScope {
  namespaces: readonly string[];
  /** Cluster-scoped objects named `<prefix>-…` are the session's. */
  prefix: string | undefined;
  /** The session's own clusters by alias (a dedicated environment), instead of the configured ones. */
  clients?: ReadonlyMap<string, ClusterClient>;
  /** Their nodes, for the node-level check kinds. */
  hosts?: (alias: string, node: string) => HostExec;
}

/** How long one look at a namespace's activity is shared by every check that asks. */
const ACTIVITY_TTL_MS = 400;

/**
 * The cluster activity of a task's namespaces, each namespace looked at once
 * per ~poll interval however many failing checks ask (fresh reads each time).
 */
function activityProbe(
  freshReads: (alias: string) => ClusterReads,
  prefix: string | undefined,
): (alias: string, namespaces: string[]) => Promise<string | undefined> {
  const looks = new Map<string, { at: number; activity: Promise<string | undefined> }>();
  const look = (alias: string, scope: { namespace: string } | { prefix: string }) => {
    const key = `${alias}\0${'namespace' in scope ? scope.namespace : ''}`;
    const last = looks.get(key);
    if (last && performance.now() - last.at < ACTIVITY_TTL_MS) return last.activity;
    const activity = activityIn(freshReads(alias), scope);
    looks.set(key, { at: performance.now(), activity });
    activity.catch(() => looks.delete(key));
    return activity;
  };
  return async (alias, namespaces) => {
    const scopes = [
      ...namespaces.map((namespace) => ({ namespace })),
      ...(prefix ? [{ prefix }] : []),
    ];
    const found = await Promise.all(scopes.map((scope) => look(alias, scope)));
    return found.find((a) => a !== undefined);
  };
}
