import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { ApiError, NetworkError, api, onExchange, parseRetryAfter, type Exchange } from './api.js';

describe('parseRetryAfter', () => {
  const serverNow = Date.parse('2030-05-01T10:00:00Z');

  it('reads delay-seconds', () => {
    expect(parseRetryAfter('120', serverNow)).toBe(120);
    expect(parseRetryAfter(' 5 ', serverNow)).toBe(5);
    expect(parseRetryAfter('0', serverNow)).toBe(0);
  });

  it('reads an HTTP date against the server’s clock, rounding up, never negative', () => {
    expect(parseRetryAfter('Wed, 01 May 2030 10:01:30 GMT', serverNow)).toBe(90);
    expect(parseRetryAfter('Wed, 01 May 2030 10:01:30 GMT', serverNow + 200)).toBe(90);
    expect(parseRetryAfter('Wed, 01 May 2030 09:59:00 GMT', serverNow)).toBe(0);
  });

  it('is null when absent or unreadable', () => {
    expect(parseRetryAfter(null, serverNow)).toBeNull();
    expect(parseRetryAfter('', serverNow)).toBeNull();
    expect(parseRetryAfter('soon', serverNow)).toBeNull();
  });
});

describe('requests to the engine', () => {
  const browserNow = Date.parse('2030-05-01T13:00:00Z'); // three hours ahead of the server
  const serverTime = '2030-05-01T10:00:00.000Z';
  let fetchMock: jest.Mock<typeof fetch>;
  let exchanges: (Exchange | null)[];
  let unsubscribe: () => void;
  const originalFetch = globalThis.fetch;

  const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json', ...headers },
    });

  beforeEach(() => {
    jest.useFakeTimers({ now: browserNow });
    fetchMock = jest.fn<typeof fetch>();
    globalThis.fetch = fetchMock;
    exchanges = [];
    unsubscribe = onExchange((exchange) => exchanges.push(exchange));
  });

  afterEach(() => {
    unsubscribe();
    globalThis.fetch = originalFetch;
    jest.useRealTimers();
  });

  it('returns the parsed body and reports the exchange with the server time from the body', async () => {
    fetchMock.mockImplementation(async () => {
      jest.advanceTimersByTime(120); // the round trip
      return json(200, { id: 's1', serverTime });
    });
    await expect(api.me()).resolves.toEqual({ id: 's1', serverTime });
    expect(exchanges).toEqual([
      {
        sentAt: browserNow,
        receivedAt: browserNow + 120,
        serverTime: Date.parse(serverTime),
        resolutionMs: 0,
      },
    ]);
  });

  it('finds the server time of a new session inside it', async () => {
    fetchMock.mockResolvedValue(json(201, { session: { id: 's1', serverTime } }));
    await api.startWithInvitation('ABCD-EFGH');
    expect(exchanges[0]).toMatchObject({ serverTime: Date.parse(serverTime), resolutionMs: 0 });
  });

  it('falls back to the whole-second Date header when the body has no server time', async () => {
    fetchMock.mockResolvedValue(
      json(200, [{ id: 'cka-1' }], { date: 'Wed, 01 May 2030 10:00:07 GMT' }),
    );
    await api.exams();
    expect(exchanges[0]).toMatchObject({
      serverTime: Date.parse('2030-05-01T10:00:07Z'),
      resolutionMs: 1000,
    });
  });

  it('reports no server time when there is none', async () => {
    fetchMock.mockResolvedValue(new Response(null, { status: 204 }));
    await expect(api.leave()).resolves.toBeNull();
    expect(exchanges[0]).toMatchObject({ serverTime: null });
  });

  it('sends an answer as JSON to the task’s own URL, with the cookie, and keepalive when asked', async () => {
    fetchMock.mockResolvedValue(json(200, { questionId: 'q/1' }));
    await api.saveAnswer('q/1', { answer: 'x', flagged: true }, { keepalive: true });
    const [url, init] = fetchMock.mock.calls[0];
    expect(url).toBe('/api/sessions/me/answers/q%2F1');
    expect(init).toMatchObject({
      method: 'PUT',
      credentials: 'same-origin',
      cache: 'no-store',
      keepalive: true,
    });
    expect(JSON.parse(init?.body as string)).toEqual({ answer: 'x', flagged: true });
    expect(init?.headers).toMatchObject({ 'content-type': 'application/json' });
  });

  it('turns an unreachable server into a NetworkError and reports no exchange', async () => {
    fetchMock.mockRejectedValue(new TypeError('Failed to fetch'));
    await expect(api.me()).rejects.toBeInstanceOf(NetworkError);
    expect(exchanges).toEqual([null]);
  });

  it.each([502, 504])('treats a gateway’s %i as the server being unreachable', async (status) => {
    fetchMock.mockResolvedValue(new Response('Bad Gateway', { status }));
    await expect(api.me()).rejects.toBeInstanceOf(NetworkError);
    expect(exchanges).toEqual([null]);
  });

  it('turns an error answer into an ApiError with the engine’s code, message and details', async () => {
    fetchMock.mockResolvedValue(
      json(409, {
        code: 'SESSION_NOT_ACTIVE',
        message: 'The exam is over',
        details: { state: 'expired' },
        serverTime,
      }),
    );
    const error = await api.submit().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({
      status: 409,
      code: 'SESSION_NOT_ACTIVE',
      message: 'The exam is over',
      details: { state: 'expired' },
      retryAfterSeconds: null,
    });
    // The engine answered: that is still an exchange for the clock.
    expect(exchanges[0]).toMatchObject({ serverTime: Date.parse(serverTime) });
  });

  it('describes an error answer without a JSON body by its status', async () => {
    fetchMock.mockResolvedValue(
      new Response('<html>oops</html>', { status: 500, statusText: 'Internal Server Error' }),
    );
    await expect(api.me()).rejects.toMatchObject({
      status: 500,
      code: 'HTTP_500',
      message: 'The server answered 500 Internal Server Error',
    });
  });

  it('reads Retry-After as an HTTP date by the server’s clock, not the browser’s', async () => {
    // The browser is three hours ahead: by its clock the date is long past.
    fetchMock.mockResolvedValue(
      json(
        429,
        { code: 'TOO_MANY_REQUESTS', message: 'Too many attempts' },
        { date: 'Wed, 01 May 2030 10:00:00 GMT', 'retry-after': 'Wed, 01 May 2030 10:02:00 GMT' },
      ),
    );
    await expect(api.startWithInvitation('X')).rejects.toMatchObject({
      status: 429,
      retryAfterSeconds: 120,
    });
  });

  it('takes the wait from details.retryAfterSeconds when there is no Retry-After header', async () => {
    fetchMock.mockResolvedValue(
      json(503, { code: 'AT_CAPACITY', message: 'Full', details: { retryAfterSeconds: 30 } }),
    );
    await expect(api.startOpenExam('cka-1', 'Ada')).rejects.toMatchObject({
      status: 503,
      retryAfterSeconds: 30,
    });
  });

  it('stops reporting exchanges to a listener that unsubscribed', async () => {
    fetchMock.mockImplementation(async () => json(200, { serverTime }));
    unsubscribe();
    await api.me();
    expect(exchanges).toEqual([]);
  });
});
