import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import { Public } from '../auth/principal.js';
import { withTimeout } from '../common/with-timeout.js';
import { ClusterService } from '../cluster/cluster.service.js';
import { QueueService } from '../queue/queue.service.js';

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

  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process answers' })
  live() {
    return { status: 'ok' };
  }

  /**
   * Readiness: 503 unless the database and Redis answer. An unreachable
   * cluster only degrades (exams in progress keep their answers and deadlines).
   */
  @Get()
  @ApiOperation({ summary: 'Readiness: database, Redis and cluster reachability' })
  async health(@Res({ passthrough: true }) response: Response) {
    const [database, redis, clusters] = await Promise.all([
      probe('database query', () => this.dataSource.query('SELECT 1')),
      probe('redis round trip', () => this.queues.ping()),
      this.cluster.reachability(),
    ]);
    const ready = database.status === 'up' && redis.status === 'up';
    response.status(ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    const clustersUp = Object.values(clusters).every((c) => c.status === 'up');
    return {
      status: ready ? (clustersUp ? 'ok' : 'degraded') : 'down',
      checks: { database, redis, clusters },
    };
  }
}
