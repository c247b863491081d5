import {
  type DynamicModule,
  type MiddlewareConsumer,
  Module,
  type NestModule,
} from '@nestjs/common';
import type { Logger } from 'pino';
import { AuthModule } from './auth/auth.module.js';
import { ConfigModule } from './config/config.module.js';
import type { AppConfig } from './config/config.schema.js';
import { DatabaseModule } from './database/database.module.js';
import { ExamsModule } from './exams/exams.module.js';
import { GradingModule } from './grading/grading.module.js';
import { HealthModule } from './health/health.module.js';
import { InvitationsModule } from './invitations/invitations.module.js';
import { LoggingModule } from './logging/logging.module.js';
import { HttpObserverMiddleware } from './metrics/http-observer.middleware.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { QueueModule } from './queue/queue.module.js';
import { WorkerModule } from './queue/worker.module.js';
import { SessionsModule } from './sessions/sessions.module.js';
import { TerminalModule } from './terminal/terminal.module.js';
import { ThrottlingModule } from './throttling/throttling.module.js';

export interface AppRoles {
  /** Serve the REST API. */
  http: boolean;
  /** Run the queue workers and the reconciler. */
  worker: boolean;
}

/**
 * The whole engine. One process can serve HTTP, run the workers, or both (the
 * default); only the worker side is optional, as controllers do nothing in a
 * process without an HTTP server.
 */
@Module({})
export class AppModule implements NestModule {
  static forRoot(config: AppConfig, logger: Logger, roles: AppRoles): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(logger),
        DatabaseModule.forRoot(logger),
        MetricsModule,
        QueueModule,
        ThrottlingModule, // counts @Public routes only, so its place among the guards does not matter
        AuthModule,
        ExamsModule,
        InvitationsModule,
        SessionsModule,
        GradingModule,
        HealthModule,
        ...(roles.http ? [TerminalModule] : []),
        ...(roles.worker ? [WorkerModule] : []),
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpObserverMiddleware).forRoutes('*path');
  }
}
