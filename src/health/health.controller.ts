import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import { CurrentPrincipal, type Principal, Public } from '../auth/principal.js';
import { withTimeout } from '../common/with-timeout.js';
import { ClusterService } from '../cluster/cluster.service.js';
import { QueueService } from '../queue/queue.service.js';
import { SkipThrottle } from '../throttling/throttle.guard.js';

type Probe = { status: 'up'; latencyMs: number } | { status: 'down'; error: string };

async function probe(what: string, check: () => Promise<unknown>): Promise<Probe> {
  const started = Date.now();
  try {
    await withTimeout(check(), 2000, what);
    return { status: 'up', latencyMs: Date.now() - started };
  } catch (error) {
    return { status: 'down', error: (error as Error).message };
  }
}

@ApiTags('operations')
@Controller('health')
@Public()
export class HealthController {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly queues: QueueService,
    private readonly cluster: ClusterService,
  ) {}

  @SkipThrottle()
  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process answers' })
  live() {
    return { status: 'ok' };
  }

  /**
   * Readiness: 503 unless the database and Redis answer. An unreachable
   * cluster only degrades (exams in progress keep their answers and deadlines).
   * Anyone (a load balancer, a probe) sees each part's status; only staff see
   * latencies, API server addresses, versions and probe errors, which would
   * tell an anonymous caller where the clusters are and what they run.
   */
  @Get()
  @ApiOperation({ summary: 'Readiness: database, Redis and cluster reachability' })
  async health(
    @Res({ passthrough: true }) response: Response,
    @CurrentPrincipal() principal: Principal | undefined,
  ) {
    const [database, redis, clusters] = await Promise.all([
      probe('database query', () => this.dataSource.query('SELECT 1')),
      probe('redis round trip', () => this.queues.ping()),
      this.cluster.reachability(),
    ]);
    const ready = database.status === 'up' && redis.status === 'up';
    response.status(ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    const clustersUp = Object.values(clusters).every((c) => c.status === 'up');
    const status = ready ? (clustersUp ? 'ok' : 'degraded') : 'down';
    if (principal?.kind === 'staff') return { status, checks: { database, redis, clusters } };
    const only = (part: { status: string }) => ({ status: part.status });
    return {
      status,
      checks: {
        database: only(database),
        redis: only(redis),
        clusters: Object.fromEntries(Object.entries(clusters).map(([a, c]) => [a, only(c)])),
      },
    };
  }
}
