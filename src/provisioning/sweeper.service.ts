import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { In, Repository } from 'typeorm';
import { ClusterService } from '../cluster/cluster.service.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import { Session } from '../sessions/session.entity.js';
import { ProvisioningService } from './provisioning.service.js';

/**
 * Removes labelled leftovers whose session no longer exists in the database
 * (a restored database, another installation's crash) once they have
 * expired, or whose session was already torn down (something created after
 * the teardown). Runs on a timer where workers run.
 */
@Injectable()
export class SessionSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private readonly logger: Logger;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clusters: ClusterService,
    private readonly provisioning: ProvisioningService,
    @InjectRepository(Session) private readonly sessions: Repository<Session>,
    @Inject(ROOT_LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ context: 'SessionSweeper' });
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.sweep().catch((error: unknown) =>
        this.logger.warn({ err: error }, 'sweep failed; will try again'),
      );
    }, this.config.provisioning.sweepIntervalMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** One pass over every configured cluster; returns how many objects were deleted. */
  async sweep(): Promise<number> {
    let deleted = 0;
    for (const alias of this.clusters.aliases()) {
      let labelled: Map<string, number | undefined>;
      try {
        labelled = await this.provisioning.labelledSessions(alias);
      } catch (error) {
        this.logger.warn(
          { cluster: alias, err: (error as Error).message },
          'cannot list labelled objects',
        );
        continue;
      }
      if (!labelled.size) continue;
      const known = await this.sessions.find({
        where: { id: In([...labelled.keys()]) },
        select: { id: true, tornDownAt: true },
      });
      const keep = new Set(known.filter((s) => !s.tornDownAt).map((s) => s.id));
      const knownIds = new Set(known.map((s) => s.id));
      for (const [sessionId, expiresAt] of labelled) {
        if (keep.has(sessionId)) continue;
        // Unknown here but not long expired: another installation's exam on
        // the same cluster, in progress, being graded or kept for review (or
        // a restore racing a live session). Its own teardown removes it; a
        // later sweep does once the retention has passed here too.
        const retainedUntil =
          (expiresAt ?? 0) + (this.config.provisioning.teardownAfterSeconds + 3600) * 1000;
        if (!knownIds.has(sessionId) && expiresAt !== undefined && retainedUntil > Date.now())
          continue;
        const count = await this.provisioning.deleteLabelled(
          this.clusters.client(alias),
          sessionId,
        );
        deleted += count;
        this.logger.info({ cluster: alias, sessionId, deleted: count }, 'swept leftovers');
      }
    }
    return deleted;
  }
}
