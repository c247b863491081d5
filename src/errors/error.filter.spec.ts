import { BadRequestException, NotFoundException } from '@nestjs/common';
import { DomainError, ErrorCode } from './domain-error.js';
import { ErrorFilter } from './error.filter.js';

function run(error: unknown) {
  const sent: { status?: number; body?: Record<string, unknown> } = {};
  const response = {
    headersSent: false,
    removeHeader() {},
    type() {
      return this;
    },
    status(code: number) {
      sent.status = code;
      return this;
    },
    json(body: Record<string, unknown>) {
      sent.body = body;
    },
  };
  const host = {
    switchToHttp: () => ({
      getResponse: () => response,
      getRequest: () => ({ method: 'GET', originalUrl: '/x' }),
    }),
  };
  const filter = new ErrorFilter();
  (filter as unknown as { logger: { error: () => void } }).logger = { error: () => {} };
  filter.catch(error, host as never);
  return sent;
}

describe('ErrorFilter', () => {
  it('maps a domain error to its status and code', () => {
    expect(run(new DomainError(ErrorCode.SESSION_EXPIRED, 'over', { deadline: 'd' }))).toEqual({
      status: 409,
      body: { code: 'SESSION_EXPIRED', message: 'over', details: { deadline: 'd' } },
    });
  });

  it('maps framework 4xx errors by status', () => {
    expect(run(new NotFoundException('Cannot GET /nope'))).toMatchObject({
      status: 404,
      body: { code: 'NOT_FOUND', message: 'Cannot GET /nope' },
    });
    expect(run(new BadRequestException('bad'))).toMatchObject({
      status: 400,
      body: { code: 'VALIDATION_FAILED' },
    });
  });

  it('hides anything unexpected behind a 500 with a correlation id', () => {
    const sent = run(new Error('connection string postgres://secret leaked'));
    expect(sent.status).toBe(500);
    expect(sent.body).toMatchObject({
      code: 'INTERNAL',
      details: { correlationId: expect.stringMatching(/^[0-9a-f-]{36}$/) },
    });
    expect(JSON.stringify(sent.body)).not.toContain('secret');
  });
});
