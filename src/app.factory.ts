import 'reflect-metadata';
import type { INestApplication, INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { Logger } from 'pino';
import { AppModule } from './app.module.js';
import { JSON_BODY_LIMIT, refuseDeepJson } from './common/json-limits.js';
import { securityHeaders } from './common/security-headers.js';
import { consoleStatic } from './web/console-static.js';
import type { AppConfig } from './config/config.schema.js';
import { ErrorFilter } from './errors/error.filter.js';
import { createValidationPipe } from './errors/validation.pipe.js';
import { PinoNestLogger } from './logging/logger.js';

/** The HTTP application (plus the workers when `worker` is true), initialised but not listening. */
export async function createHttpApp(
  config: AppConfig,
  logger: Logger,
  worker: boolean,
): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot(config, logger, { http: true, worker }),
    {
      logger: new PinoNestLogger(logger),
      abortOnError: false,
    },
  );
  app.use(securityHeaders);
  for (const middleware of consoleStatic(config.web.root)) app.use(middleware);
  app.useBodyParser('json', { limit: JSON_BODY_LIMIT });
  app.use(refuseDeepJson);
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ErrorFilter());
  app.disable('x-powered-by');
  // The client address throttling and session caps count by (req.ip).
  app.set('trust proxy', config.http.trustProxy);
  app.enableShutdownHooks();
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('CKA mock exam engine')
      .setDescription('Timed CKA mock exams graded against a live cluster')
      .setVersion('0.1.0')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json' });
  await initOrClose(app);
  return app;
}

/**
 * Runs the start-up hooks (migrations, bank loading, workers). If one fails,
 * what the others opened is closed, so a refused start leaves nothing running.
 */
async function initOrClose(app: INestApplicationContext): Promise<void> {
  try {
    await app.init();
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
}

/** The workers alone, without an HTTP server. */
export async function createWorkerContext(
  config: AppConfig,
  logger: Logger,
): Promise<INestApplicationContext> {
  const app = await NestFactory.createApplicationContext(
    AppModule.forRoot(config, logger, { http: false, worker: true }),
    {
      logger: new PinoNestLogger(logger),
      abortOnError: false,
    },
  );
  app.enableShutdownHooks();
  await initOrClose(app);
  return app;
}
