import { Inject, Injectable } from '@nestjs/common';
import { ClusterService } from '../cluster/cluster.service.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { type CheckOutcome, runChecks, type TaskToGrade } from './check-runner.js';
import { ClusterReads } from './cluster-reads.js';
import type { Grader } from './grader-api.js';
import { GraderLoader } from './grader-loader.js';

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

  /** `settleFrom`: when the candidate stopped (runtime state gets each check's timeout from then). */
  async evaluate(tasks: TaskToGrade[], settleFrom: number): Promise<Evaluation> {
    const started = performance.now();
    const reads = new Map<string, ClusterReads>();
    const outcomes = await runChecks(tasks, {
      readsFor: (alias) => {
        let forAlias = reads.get(alias);
        if (!forAlias) {
          forAlias = new ClusterReads(this.clusters.client(alias));
          reads.set(alias, forAlias);
        }
        return forAlias;
      },
      loadGrader: (name) => this.loadGrader(name),
      concurrency: this.config.grading.checkConcurrency,
      settleFrom,
    });
    return {
      outcomes,
      requests: [...reads.values()].reduce((sum, r) => sum + r.requests, 0),
      durationMs: Math.round(performance.now() - started),
    };
  }
}
