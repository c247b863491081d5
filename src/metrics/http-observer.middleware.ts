import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import type { AuthenticatedRequest } from '../auth/principal.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import { MetricsService } from './metrics.service.js';

/**
 * Times every request for /metrics (by route pattern, not raw URL, so ids do
 * not explode the label set) and logs one JSON line per request with its id,
 * and the session id once the caller is known.
 */
@Injectable()
export class HttpObserverMiddleware implements NestMiddleware {
  private readonly logger: Logger;

  constructor(
    private readonly metrics: MetricsService,
    @Inject(ROOT_LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ context: 'http' });
  }

  use(request: Request & AuthenticatedRequest, response: Response, next: NextFunction): void {
    const started = process.hrtime.bigint();
    const header = request.headers['x-request-id'];
    const requestId =
      typeof header === 'string' && /^[\w.-]{1,100}$/.test(header) ? header : randomUUID();
    response.setHeader('x-request-id', requestId);
    response.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = request.route?.path ? `${request.baseUrl}${request.route.path}` : 'unmatched';
      this.metrics.httpDuration.observe(
        { method: request.method, route, status: String(response.statusCode) },
        seconds,
      );
      const principal = request.principal;
      this.logger.info({
        requestId,
        method: request.method,
        route,
        status: response.statusCode,
        ms: Math.round(seconds * 10000) / 10,
        sessionId: principal?.kind === 'candidate' ? principal.sessionId : undefined,
        staff: principal?.kind === 'staff' ? principal.name : undefined,
      });
    });
    next();
  }
}
