import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Logger } from 'pino';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import { BankService } from '../question-bank/bank.service.js';
import { ClusterPoolService } from './cluster-pool.service.js';
import type { ClusterShape } from './cluster-provider.js';

/**
 * Where workers run, with a cluster provider: at start, finds the leases'
 * clusters again and destroys orphans; then, on the reconciler's interval,
 * keeps the pool stocked for the shapes the bank's dedicated exams use.
 */
@Injectable()
export class PoolKeeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private readonly logger: Logger;
  private running = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly pool: ClusterPoolService,
    private readonly bank: BankService,
    @Inject(ROOT_LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ context: 'PoolKeeper' });
  }

  /** Every cluster shape the bank's dedicated exams declare. */
  shapesInDemand(): ClusterShape[] {
    return this.bank
      .exams()
      .filter((exam) => exam.spec.environment === 'dedicated')
      .flatMap((exam) => exam.spec.clusters ?? [])
      .map((cluster) => ({ nodes: cluster.nodes }));
  }

  onApplicationBootstrap(): void {
    if (this.config.environments.provider === 'none') return;
    void this.pass(true);
    this.timer = setInterval(() => void this.pass(false), this.config.worker.reconcileIntervalMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** One pass: reconcile (always at start, then every pass), then refill. */
  async pass(first: boolean): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const { available, reason } = await this.pool.availability();
      if (!available) {
        if (first) this.logger.warn({ reason }, 'dedicated clusters unavailable');
        return;
      }
      const reconciled = await this.pool.reconcile();
      if (first || reconciled.lost || reconciled.orphansDestroyed)
        this.logger.info(reconciled, 'cluster leases reconciled');
      const begun = await this.pool.refill(this.shapesInDemand());
      if (begun) this.logger.info({ begun }, 'warm pool refilling');
    } catch (error) {
      this.logger.warn({ err: error }, 'pool pass failed; will try again');
    } finally {
      this.running = false;
    }
  }
}
