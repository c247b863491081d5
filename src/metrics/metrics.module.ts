import { Global, Module } from '@nestjs/common';
import { HttpObserverMiddleware } from './http-observer.middleware.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsService } from './metrics.service.js';

@Global()
@Module({
  controllers: [MetricsController],
  providers: [MetricsService, HttpObserverMiddleware],
  exports: [MetricsService, HttpObserverMiddleware],
})
export class MetricsModule {}
