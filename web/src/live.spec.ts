import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { StateEvent } from './api.js';
import { browserTimers } from './backoff.js';
import { LiveConnection, type EventStream } from './live.js';

/** A stand-in for EventSource that the test drives. */
class FakeStream implements EventStream {
  closed = false;
  private readonly listeners = new Map<string, ((event: MessageEvent<string>) => void)[]>();

  addEventListener(type: string, listener: (event: MessageEvent<string>) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  close(): void {
    this.closed = true;
  }

  emit(type: 'open' | 'error'): void;
  emit(type: 'state', data: string): void;
  emit(type: string, data = ''): void {
    for (const listener of this.listeners.get(type) ?? []) {
      listener({ data } as MessageEvent<string>);
    }
  }
}

const event: StateEvent = {
  state: 'active',
  deadline: '2030-05-01T12:00:00.000Z',
  serverTime: '2030-05-01T10:00:00.000Z',
  questions: [{ questionId: 'q1', setupStatus: 'applied', setupMessage: null }],
};

function setup(poll: () => Promise<void> = () => Promise.resolve()) {
  const streams: FakeStream[] = [];
  const states: { event: StateEvent; receivedAt: number }[] = [];
  const polls = jest.fn(poll);
  const live = new LiveConnection({
    open: () => {
      const stream = new FakeStream();
      streams.push(stream);
      return stream;
    },
    poll: polls,
    onState: (e, receivedAt) => states.push({ event: e, receivedAt }),
    timers: browserTimers,
    now: () => Date.now(),
  });
  return { live, streams, states, polls, current: () => streams[streams.length - 1] };
}

/** Lets the poll's promise chain run. */
const settle = () => jest.advanceTimersByTimeAsync(0);

beforeEach(() => {
  jest.useFakeTimers({ now: Date.parse('2030-05-01T10:00:00Z') });
});

afterEach(() => {
  jest.useRealTimers();
});

describe('LiveConnection', () => {
  it('opens the stream and passes each state event on with when it arrived', () => {
    const { live, streams, states } = setup();
    live.start();
    expect(streams).toHaveLength(1);
    jest.advanceTimersByTime(1234);
    streams[0].emit('state', JSON.stringify(event));
    expect(states).toEqual([{ event, receivedAt: Date.parse('2030-05-01T10:00:01.234Z') }]);
  });

  it('ignores an event it cannot parse, and keeps listening', () => {
    const { live, streams, states } = setup();
    live.start();
    expect(() => streams[0].emit('state', '{"state": "act')).not.toThrow();
    streams[0].emit('state', JSON.stringify(event));
    expect(states.map((s) => s.event)).toEqual([event]);
  });

  it('when the stream fails, closes it, polls after 2 s, then opens a new stream', async () => {
    const { live, streams, polls } = setup();
    live.start();
    streams[0].emit('error');
    expect(streams[0].closed).toBe(true);
    expect(polls).not.toHaveBeenCalled();

    await jest.advanceTimersByTimeAsync(1999);
    expect(polls).not.toHaveBeenCalled();
    expect(streams).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(polls).toHaveBeenCalledTimes(1);
    expect(streams).toHaveLength(2);
  });

  it('opens the new stream only once the poll has answered', async () => {
    let answer = () => {};
    const { live, streams, polls } = setup(() => new Promise<void>((r) => (answer = r)));
    live.start();
    streams[0].emit('error');
    await jest.advanceTimersByTimeAsync(2000);
    expect(polls).toHaveBeenCalledTimes(1);
    expect(streams).toHaveLength(1);
    answer();
    await settle();
    expect(streams).toHaveLength(2);
  });

  it('backs off 2, 4, 8, 16, 30, 30 s while the stream keeps failing', async () => {
    const { live, current, polls } = setup();
    live.start();
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      current().emit('error');
      const failedAt = Date.now();
      const before = polls.mock.calls.length;
      for (let step = 0; step < 200 && polls.mock.calls.length === before; step++) {
        await jest.advanceTimersByTimeAsync(500);
      }
      delays.push(Date.now() - failedAt);
    }
    expect(delays).toEqual([2000, 4000, 8000, 16_000, 30_000, 30_000]);
  });

  it('starts the backoff again at 2 s once a stream has opened', async () => {
    const { live, current, polls } = setup();
    live.start();
    for (let i = 0; i < 3; i++) {
      current().emit('error');
      await jest.advanceTimersByTimeAsync(30_000);
    }
    expect(polls).toHaveBeenCalledTimes(3);
    current().emit('open');
    current().emit('error');
    await jest.advanceTimersByTimeAsync(2000);
    expect(polls).toHaveBeenCalledTimes(4);
  });

  it('opens the stream again even when the poll failed', async () => {
    const { live, streams } = setup(() => Promise.reject(new Error('offline')));
    live.start();
    streams[0].emit('error');
    await jest.advanceTimersByTimeAsync(2000);
    expect(streams).toHaveLength(2);
  });

  it('ignores a late error from a stream it already replaced', async () => {
    const { live, streams, polls } = setup();
    live.start();
    streams[0].emit('error');
    await jest.advanceTimersByTimeAsync(2000);
    expect(streams).toHaveLength(2);
    streams[0].emit('error');
    await jest.advanceTimersByTimeAsync(60_000);
    expect(polls).toHaveBeenCalledTimes(1);
    expect(streams[1].closed).toBe(false);
  });

  it('stop closes the stream and cancels a pending retry', async () => {
    const { live, streams, polls } = setup();
    live.start();
    live.stop();
    expect(streams[0].closed).toBe(true);

    live.start();
    streams[1].emit('error');
    live.stop();
    await jest.advanceTimersByTimeAsync(60_000);
    expect(polls).not.toHaveBeenCalled();
    expect(streams).toHaveLength(2);
  });

  it('does not reopen the stream when stopped during a poll', async () => {
    let answer = () => {};
    const { live, streams } = setup(() => new Promise<void>((r) => (answer = r)));
    live.start();
    streams[0].emit('error');
    await jest.advanceTimersByTimeAsync(2000);
    live.stop();
    answer();
    await settle();
    expect(streams).toHaveLength(1);
  });
});
