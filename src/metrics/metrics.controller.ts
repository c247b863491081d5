import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '../auth/principal.js';
import { QueueService } from '../queue/queue.service.js';
import { MetricsService } from './metrics.service.js';

@ApiExcludeController()
@Controller('metrics')
@Public()
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    private readonly queues: QueueService,
  ) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(): Promise<string> {
    try {
      for (const [queue, counts] of Object.entries(await this.queues.counts())) {
        for (const [state, value] of Object.entries(counts))
          this.metrics.queueDepth.set({ queue, state }, value);
      }
    } catch {
      // Redis down: export the rest; /health reports the outage.
    }
    return this.metrics.registry.metrics();
  }
}
