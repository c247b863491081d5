import {
  type DynamicModule,
  type MiddlewareConsumer,
  Module,
  type NestModule,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { Logger } from 'pino';
import { AuthGuard } from './auth/auth.guard.js';
import { ClusterService } from './cluster/cluster.service.js';
import { ConfigModule } from './config/config.module.js';
import type { AppConfig } from './config/config.schema.js';
import { DatabaseModule } from './database/database.module.js';
import { ExamsController } from './exams/exams.controller.js';
import { ExamsService } from './exams/exams.service.js';
import { GradingProcessor } from './grading/grading.processor.js';
import { HealthController } from './health/health.controller.js';
import { InvitationsController } from './invitations/invitations.controller.js';
import { InvitationsService } from './invitations/invitations.service.js';
import { LoggingModule } from './logging/logging.module.js';
import { HttpObserverMiddleware } from './metrics/http-observer.middleware.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { MetricsService } from './metrics/metrics.service.js';
import { ProvisioningProcessor } from './provisioning/provisioning.processor.js';
import { BankService } from './question-bank/bank.service.js';
import { JOB_PROCESSORS, type JobProcessor } from './queue/job-processor.js';
import { QueueService } from './queue/queue.service.js';
import { WorkerService } from './queue/worker.service.js';
import { SessionExpiryProcessor } from './sessions/session-expiry.processor.js';
import { SessionLifecycleService } from './sessions/session-lifecycle.service.js';
import { SessionReconciler } from './sessions/session-reconciler.service.js';
import { SessionsController } from './sessions/sessions.controller.js';
import { SessionsService } from './sessions/sessions.service.js';

export interface AppRoles {
  /** Serve the REST API. */
  http: boolean;
  /** Run the queue workers and the reconciler. */
  worker: boolean;
}

const PROCESSORS = [SessionExpiryProcessor, ProvisioningProcessor, GradingProcessor];

/**
 * The whole engine. One process can serve HTTP, run the workers, or both
 * (the default); the pieces each role needs are chosen here.
 */
@Module({})
export class AppModule implements NestModule {
  static forRoot(config: AppConfig, logger: Logger, roles: AppRoles): DynamicModule {
    const workerProviders = roles.worker
      ? [
          ...PROCESSORS,
          {
            provide: JOB_PROCESSORS,
            inject: PROCESSORS,
            useFactory: (...processors: JobProcessor[]) => processors,
          },
          WorkerService,
          SessionReconciler,
        ]
      : [];
    return {
      module: AppModule,
      imports: [ConfigModule.forRoot(config), LoggingModule.forRoot(logger), DatabaseModule],
      controllers: roles.http
        ? [
            ExamsController,
            InvitationsController,
            SessionsController,
            HealthController,
            MetricsController,
          ]
        : [],
      providers: [
        MetricsService,
        QueueService,
        BankService,
        ClusterService,
        ExamsService,
        InvitationsService,
        SessionLifecycleService,
        SessionsService,
        ...(roles.http
          ? [{ provide: APP_GUARD, useClass: AuthGuard }, HttpObserverMiddleware]
          : []),
        ...workerProviders,
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpObserverMiddleware).forRoutes('*path');
  }
}
