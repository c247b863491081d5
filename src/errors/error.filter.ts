import { randomUUID } from 'node:crypto';
import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { DomainError, ErrorCode } from './domain-error.js';

/** The one error body the API ever returns. */
export interface ErrorBody {
  code: string;
  message: string;
  details: Record<string, unknown>;
}

const CODE_OF_STATUS: Record<number, string> = {
  400: ErrorCode.VALIDATION_FAILED,
  401: ErrorCode.UNAUTHENTICATED,
  403: ErrorCode.FORBIDDEN,
  404: ErrorCode.NOT_FOUND,
  409: ErrorCode.CONFLICT,
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

/**
 * Maps every error to `{ code, message, details }`: domain errors by their
 * code, framework HTTP errors (malformed JSON, unknown route) by status, and
 * anything else to a logged 500 with a correlation id and a generic message.
 */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('ErrorFilter');

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<Response>();
    const request = http.getRequest<Request>();
    const { status, body } = this.toBody(error, request);
    if (response.headersSent) return;
    // A handler may have declared another content type (a YAML download, say).
    response.removeHeader('Content-Disposition');
    // 429 and 503 say when to come back.
    const retryAfter = body.details.retryAfterSeconds;
    if (typeof retryAfter === 'number') response.setHeader('Retry-After', String(retryAfter));
    response.status(status).type('application/json').json(body);
  }

  private toBody(error: unknown, request: Request): { status: number; body: ErrorBody } {
    if (error instanceof DomainError) {
      return {
        status: error.status,
        body: { code: error.code, message: error.message, details: error.details },
      };
    }
    if (error instanceof HttpException) {
      const status = error.getStatus();
      if (status < 500) {
        const response = error.getResponse();
        const message =
          typeof response === 'object' && response && 'message' in response
            ? String((response as { message: unknown }).message)
            : error.message;
        return {
          status,
          body: { code: CODE_OF_STATUS[status] ?? `HTTP_${status}`, message, details: {} },
        };
      }
    }
    const correlationId = randomUUID();
    this.logger.error(
      {
        correlationId,
        method: request.method,
        url: request.originalUrl,
        err: error instanceof Error ? { message: error.message, stack: error.stack } : error,
      },
      'unhandled error',
    );
    return {
      status: HttpStatus.INTERNAL_SERVER_ERROR,
      body: {
        code: ErrorCode.INTERNAL,
        message: 'Internal error; quote the correlation id when reporting it.',
        details: { correlationId },
      },
    };
  }
}
