import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { SaveQueue, type Fields, type SaveQueueOptions } from './autosave.js';
import { browserTimers } from './backoff.js';

const DEBOUNCE_MS = 600;

/** The connection dropped: try again later. */
class Offline extends Error {}

interface Request {
  key: string;
  fields: Fields;
  succeed(): Promise<void>;
  fail(error: unknown): Promise<void>;
}

/** Lets promise callbacks (the queue's reactions to an answer) run. */
const settle = () => jest.advanceTimersByTimeAsync(0);

/**
 * A SaveQueue wired to a server the test answers by hand, and to a fake
 * localStorage (the last record `persist` was given).
 */
function setup(restored?: Record<string, Fields>, overrides: Partial<SaveQueueOptions> = {}) {
  const requests: Request[] = [];
  const rejected: { key: string; fields: Fields; error: unknown }[] = [];
  const storage: { unsaved: Record<string, Fields> | null } = { unsaved: null };
  let changes = 0;
  const queue = new SaveQueue(
    {
      send: (key, fields) =>
        new Promise<void>((resolve, reject) => {
          requests.push({
            key,
            // What went over the wire, not a live reference.
            fields: structuredClone(fields),
            succeed: async () => {
              resolve();
              await settle();
            },
            fail: async (error) => {
              reject(error);
              await settle();
            },
          });
        }),
      classify: (error) => (error instanceof Offline ? 'offline' : 'rejected'),
      persist: (unsaved) => (storage.unsaved = structuredClone(unsaved)),
      onChange: () => changes++,
      onRejected: (key, fields, error) => rejected.push({ key, fields, error }),
      timers: browserTimers,
      debounceMs: DEBOUNCE_MS,
      ...overrides,
    },
    restored,
  );
  return {
    queue,
    requests,
    rejected,
    storage,
    changes: () => changes,
    /** The latest request sent. */
    last: () => requests[requests.length - 1],
  };
}

beforeEach(() => {
  jest.useFakeTimers();
});

afterEach(() => {
  jest.useRealTimers();
});

describe('SaveQueue: debounce and merging', () => {
  it('sends nothing while the candidate types, then one request with the latest value', async () => {
    const { queue, requests } = setup();
    queue.edit('q:1', { answer: 'k' });
    await jest.advanceTimersByTimeAsync(400);
    queue.edit('q:1', { answer: 'ku' });
    await jest.advanceTimersByTimeAsync(400);
    queue.edit('q:1', { answer: 'kubectl' });
    await jest.advanceTimersByTimeAsync(DEBOUNCE_MS - 1);
    expect(requests).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(requests.map((r) => [r.key, r.fields])).toEqual([['q:1', { answer: 'kubectl' }]]);
  });

  it('merges edits of different fields of one task into one request', async () => {
    const { queue, requests } = setup();
    queue.edit('q:1', { answer: 'a' });
    queue.edit('q:1', { note: 'check the namespace' });
    queue.edit('q:1', { answer: 'ab' });
    await jest.advanceTimersByTimeAsync(DEBOUNCE_MS);
    expect(requests.map((r) => r.fields)).toEqual([{ answer: 'ab', note: 'check the namespace' }]);
  });

  it('keeps the edits of different tasks apart: one request per task', async () => {
    const { queue, requests } = setup();
    queue.edit('q:1', { answer: 'one' });
    queue.edit('q:2', { flagged: true });
    queue.edit('notepad', { notepad: 'todo: 3' });
    await jest.advanceTimersByTimeAsync(DEBOUNCE_MS);
    expect(
      Object.fromEntries(requests.map((r) => [r.key, r.fields])) as Record<string, Fields>,
    ).toEqual({
      'q:1': { answer: 'one' },
      'q:2': { flagged: true },
      notepad: { notepad: 'todo: 3' },
    });
  });

  it('sends an immediate edit (a flag) at once, with what was typed on that task before it', async () => {
    const { queue, requests } = setup();
    queue.edit('q:1', { answer: 'draft' });
    queue.edit('q:1', { flagged: true }, true);
    expect(requests.map((r) => r.fields)).toEqual([{ answer: 'draft', flagged: true }]);
  });

  it('shows "saving" until the server has acknowledged, then "saved", and tells the screen each time', async () => {
    const { queue, last, changes } = setup();
    expect(queue.status).toBe('saved');
    queue.edit('q:1', { answer: 'x' });
    expect(queue.status).toBe('saving');
    expect(queue.hasUnsaved).toBe(true);
    const afterEdit = changes();
    expect(afterEdit).toBeGreaterThan(0);
    await jest.advanceTimersByTimeAsync(DEBOUNCE_MS);
    expect(queue.status).toBe('saving');
    await last().succeed();
    expect(queue.status).toBe('saved');
    expect(queue.hasUnsaved).toBe(false);
    expect(changes()).toBeGreaterThan(afterEdit);
  });

  it('shows unsaved edits of a task, to be laid over what the server says', async () => {
    const { queue, last } = setup();
    queue.edit('q:1', { answer: 'x', note: 'n' });
    expect(queue.unsavedFields('q:1')).toEqual({ answer: 'x', note: 'n' });
    expect(queue.unsavedFields('q:2')).toBeUndefined();
    await jest.advanceTimersByTimeAsync(DEBOUNCE_MS);
    await last().succeed();
    expect(queue.unsavedFields('q:1')).toBeUndefined();
  });
});

describe('SaveQueue: one request in flight per task', () => {
  it('does not send a second request for a task while one is under way', async () => {
    const { queue, requests } = setup();
    queue.edit('q:1', { answer: 'a' });
    await jest.advanceTimersByTimeAsync(DEBOUNCE_MS);
    queue.edit('q:1', { answer: 'ab' });
    queue.edit('q:1', { flagged: true }, true);
    await jest.advanceTimersByTimeAsync(10 * DEBOUNCE_MS);
    expect(requests).toHaveLength(1);
  });

  it('does not lose an edit typed while a save was in flight: it is sent after, and kept until then', async () => {
    const { queue, requests, storage } = setup();
    queue.edit('q:1', { answer: 'a' });
    await jest.advanceTimersByTimeAsync(DEBOUNCE_MS);
    queue.edit('q:1', { answer: 'ab' });

    // The server acknowledges "a": "ab" is newer and must stay unsaved.
    await requests[0].succeed();
    expect(queue.unsavedFields('q:1')).toEqual({ answer: 'ab' });
    expect(storage.unsaved).toEqual({ 'q:1': { answer: 'ab' } });
    expect(queue.status).toBe('saving');

    await jest.advanceTimersByTimeAsync(DEBOUNCE_MS);
    expect(requests.map((r) => r.fields)).toEqual([{ answer: 'a' }, { answer: 'ab' }]);
    await requests[1].succeed();
    expect(queue.hasUnsaved).toBe(false);
    expect(storage.unsaved).toEqual({});
    expect(requests).toHaveLength(2);
  });

  it('drops only the fields the server acknowledged, not others typed meanwhile', async () => {
    const { queue, requests } = setup();
    queue.edit('q:1', { answer: 'a' });
    await jest.advanceTimersByTimeAsync(DEBOUNCE_MS);
    queue.edit('q:1', { note: 'later' });
    await requests[0].succeed();
    expect(queue.unsavedFields('q:1')).toEqual({ note: 'later' });
  });

  it('considers an edit saved when it was typed back to the value in flight', async () => {
    const { queue, requests } = setup();
    queue.edit('q:1', { answer: 'a' });
    await jest.advanceTimersByTimeAsync(DEBOUNCE_MS);
    queue.edit('q:1', { answer: 'ab' });
    queue.edit('q:1', { answer: 'a' });
    await requests[0].succeed();
    expect(queue.hasUnsaved).toBe(false);
    await jest.advanceTimersByTimeAsync(10 * DEBOUNCE_MS);
    expect(requests).toHaveLength(1);
  });

  it('does not hold one task back for another task’s request', async () => {
    const { queue, requests } = setup();
    queue.edit('q:1', { answer: 'one' });
    await jest.advanceTimersByTimeAsync(DEBOUNCE_MS);
    queue.edit('q:2', { answer: 'two' });
    await jest.advanceTimersByTimeAsync(DEBOUNCE_MS);
    expect(requests.map((r) => r.key)).toEqual(['q:1', 'q:2']);
  });
});

describe('SaveQueue: flush (before submitting, leaving, or hiding the page)', () => {
  it('sends every unsaved edit at once, and the debounce does not send them again', async () => {
    const { queue, requests } = setup();
    queue.edit('q:1', { answer: 'one' });
    queue.edit('q:2', { note: 'two' });
    const flushed = queue.flush();
    expect(requests.map((r) => r.key).sort()).toEqual(['q:1', 'q:2']);
    await Promise.all(requests.map((r) => r.succeed()));
    await flushed;
    await jest.advanceTimersByTimeAsync(10 * DEBOUNCE_MS);
    expect(requests).toHaveLength(2);
    expect(queue.status).toBe('saved');
  });

  it('resolves only once the server has answered', async () => {
    const { queue, requests } = setup();
    queue.edit('q:1', { answer: 'one' });
    let done = false;
    void queue.flush().then(() => (done = true));
    await settle();
    expect(done).toBe(false);
    await requests[0].succeed();
    expect(done).toBe(true);
  });

  it('waits for a save already in flight and sends what was typed meanwhile before resolving', async () => {
    // The candidate's last keystrokes land while the previous save is under
    // way, then they submit: the submit must not overtake those keystrokes.
    const { queue, requests } = setup();
    queue.edit('q:1', { answer: 'kubectl get po' });
    await jest.advanceTimersByTimeAsync(DEBOUNCE_MS);
    queue.edit('q:1', { answer: 'kubectl get pods -A' });

    let done = false;
    void queue.flush().then(() => (done = true));
    await settle();
    expect(done).toBe(false);

    await requests[0].succeed();
    expect(done).toBe(false);
    expect(requests.map((r) => r.fields)).toEqual([
      { answer: 'kubectl get po' },
      { answer: 'kubectl get pods -A' },
    ]);

    await requests[1].succeed();
    expect(done).toBe(true);
    expect(queue.hasUnsaved).toBe(false);
    await jest.advanceTimersByTimeAsync(10 * DEBOUNCE_MS);
    expect(requests).toHaveLength(2);
  });

  it('waiting for a save in flight that then fails offline, resolves and leaves the edit to the retry', async () => {
    const { queue, requests } = setup();
    queue.edit('q:1', { answer: 'a' });
    await jest.advanceTimersByTimeAsync(DEBOUNCE_MS);
    queue.edit('q:1', { answer: 'ab' });
    let done = false;
    void queue.flush().then(() => (done = true));
    await requests[0].fail(new Offline());
    expect(done).toBe(true);
    expect(requests).toHaveLength(1);
    expect(queue.status).toBe('offline');
    expect(queue.unsavedFields('q:1')).toEqual({ answer: 'ab' });
  });
});

describe('SaveQueue: offline', () => {
  it('keeps the edit, shows "offline" and retries with growing delays until it is saved', async () => {
    const { queue, requests, storage } = setup();
    queue.edit('q:1', { answer: 'x' });
    await jest.advanceTimersByTimeAsync(DEBOUNCE_MS);
    await requests[0].fail(new Offline());
    expect(queue.status).toBe('offline');
    expect(queue.unsavedFields('q:1')).toEqual({ answer: 'x' });
    expect(storage.unsaved).toEqual({ 'q:1': { answer: 'x' } });

    // Retries after 2 s, then 4 s, then 8 s.
    const retryAt: number[] = [];
    const start = Date.now();
    for (const delay of [2000, 4000, 8000]) {
      const before = requests.length;
      await jest.advanceTimersByTimeAsync(delay - 1);
      expect(requests).toHaveLength(before);
      await jest.advanceTimersByTimeAsync(1);
      expect(requests).toHaveLength(before + 1);
      retryAt.push(Date.now() - start);
      if (delay !== 8000) await requests[requests.length - 1].fail(new Offline());
    }
    expect(retryAt).toEqual([2000, 6000, 14000]);
    expect(requests.every((r) => r.fields.answer === 'x')).toBe(true);

    await requests[requests.length - 1].succeed();
    expect(queue.status).toBe('saved');
    expect(storage.unsaved).toEqual({});
    await jest.advanceTimersByTimeAsync(60_000);
    expect(requests).toHaveLength(4);
  });

  it('never waits more than 30 s between attempts', async () => {
    const { queue, requests } = setup();
    queue.edit('q:1', { answer: 'x' });
    await jest.advanceTimersByTimeAsync(DEBOUNCE_MS);
    for (let i = 0; i < 8; i++) {
      await requests[requests.length - 1].fail(new Offline());
      const before = requests.length;
      await jest.advanceTimersByTimeAsync(30_000);
      expect(requests).toHaveLength(before + 1);
    }
  });

  it('sends edits typed while offline later, merged with the ones that failed', async () => {
    const { queue, requests, storage } = setup();
    queue.edit('q:1', { answer: 'a' });
    await jest.advanceTimersByTimeAsync(DEBOUNCE_MS);
    await requests[0].fail(new Offline());

    queue.edit('q:1', { answer: 'ab', note: 'offline note' });
    queue.edit('q:2', { flagged: true });
    expect(storage.unsaved).toEqual({
      'q:1': { answer: 'ab', note: 'offline note' },
      'q:2': { flagged: true },
    });
    // Still offline: every attempt fails.
    for (let i = 0; i < 5; i++) {
      await jest.advanceTimersByTimeAsync(30_000);
      await Promise.all(requests.slice(1).map((r) => r.fail(new Offline())));
    }
    expect(queue.status).toBe('offline');

    // The connection is back.
    const before = requests.length;
    queue.resume();
    const sent = requests.slice(before);
    expect(Object.fromEntries(sent.map((r) => [r.key, r.fields]))).toEqual({
      'q:1': { answer: 'ab', note: 'offline note' },
      'q:2': { flagged: true },
    });
    await Promise.all(sent.map((r) => r.succeed()));
    expect(queue.status).toBe('saved');
    expect(storage.unsaved).toEqual({});
  });

  it('retries at once when the connection is back, without waiting out the backoff', async () => {
    const { queue, requests } = setup();
    queue.edit('q:1', { answer: 'x' });
    await jest.advanceTimersByTimeAsync(DEBOUNCE_MS);
    await requests[0].fail(new Offline());
    queue.resume();
    expect(requests).toHaveLength(2);
    await requests[1].succeed();
    // The retry timer was cancelled: nothing more goes out.
    await jest.advanceTimersByTimeAsync(60_000);
    expect(requests).toHaveLength(2);
  });

  it('resume does nothing when nothing failed', async () => {
    const { queue, requests } = setup();
    queue.edit('q:1', { answer: 'x' });
    queue.resume();
    expect(requests).toHaveLength(0);
  });

  it('retries every failed task on one timer', async () => {
    const { queue, requests } = setup();
    queue.edit('q:1', { answer: 'one' });
    queue.edit('q:2', { answer: 'two' });
    await jest.advanceTimersByTimeAsync(DEBOUNCE_MS);
    await Promise.all(requests.map((r) => r.fail(new Offline())));
    await jest.advanceTimersByTimeAsync(2000);
    expect(
      requests
        .slice(2)
        .map((r) => r.key)
        .sort(),
    ).toEqual(['q:1', 'q:2']);
  });

  it('once the connection is back, still sends what is typed while a save is in flight', async () => {
    const { queue, requests } = setup();
    queue.edit('q:1', { answer: 'a' });
    await jest.advanceTimersByTimeAsync(DEBOUNCE_MS);
    await requests[0].fail(new Offline());
    queue.resume();
    queue.edit('q:1', { answer: 'ab' });
    await jest.advanceTimersByTimeAsync(DEBOUNCE_MS);
    await requests[1].succeed();
    expect(queue.status).toBe('saving');
    await jest.advanceTimersByTimeAsync(DEBOUNCE_MS);
    expect(requests.map((r) => r.fields)).toEqual([
      { answer: 'a' },
      { answer: 'a' },
      { answer: 'ab' },
    ]);
  });

  it('starts the backoff again at 2 s after a success', async () => {
    const { queue, requests } = setup();
    queue.edit('q:1', { answer: 'x' });
    await jest.advanceTimersByTimeAsync(DEBOUNCE_MS);
    await requests[0].fail(new Offline());
    await jest.advanceTimersByTimeAsync(2000);
    await requests[1].fail(new Offline());
    await jest.advanceTimersByTimeAsync(4000);
    await requests[2].succeed();

    queue.edit('q:1', { answer: 'y' });
    await jest.advanceTimersByTimeAsync(DEBOUNCE_MS);
    await requests[3].fail(new Offline());
    await jest.advanceTimersByTimeAsync(2000);
    expect(requests).toHaveLength(5);
  });
});

describe('SaveQueue: persistence across a reload', () => {
  it('persists every unacknowledged edit, and nothing once all are saved', async () => {
    const { queue, requests, storage } = setup();
    queue.edit('q:1', { answer: 'x' });
    expect(storage.unsaved).toEqual({ 'q:1': { answer: 'x' } });
    queue.edit('notepad', { notepad: 'n' });
    expect(storage.unsaved).toEqual({ 'q:1': { answer: 'x' }, notepad: { notepad: 'n' } });
    await jest.advanceTimersByTimeAsync(DEBOUNCE_MS);
    await requests.find((r) => r.key === 'notepad')?.succeed();
    expect(storage.unsaved).toEqual({ 'q:1': { answer: 'x' } });
    await requests.find((r) => r.key === 'q:1')?.succeed();
    expect(storage.unsaved).toEqual({});
  });

  it('restores what a previous page left unsaved, and sends it on flush', async () => {
    // The first page typed offline and was closed.
    const first = setup();
    first.queue.edit('q:1', { answer: 'typed offline' });
    first.queue.edit('q:3', { flagged: true }, true);
    await first.last().fail(new Offline());
    first.queue.dispose();
    const left = first.storage.unsaved;
    expect(left).toEqual({ 'q:1': { answer: 'typed offline' }, 'q:3': { flagged: true } });

    // The reloaded page starts from it.
    const second = setup(left ?? {});
    expect(second.queue.hasUnsaved).toBe(true);
    expect(second.queue.status).toBe('saving');
    expect(second.queue.unsavedFields('q:1')).toEqual({ answer: 'typed offline' });
    const flushed = second.queue.flush();
    expect(Object.fromEntries(second.requests.map((r) => [r.key, r.fields]))).toEqual(left);
    await Promise.all(second.requests.map((r) => r.succeed()));
    await flushed;
    expect(second.queue.status).toBe('saved');
    expect(second.storage.unsaved).toEqual({});
  });

  it('ignores empty restored records and does not share objects with the caller', () => {
    const restored: Record<string, Fields> = { 'q:1': {}, 'q:2': { answer: 'x' } };
    const { queue } = setup(restored);
    expect(queue.unsavedFields('q:1')).toBeUndefined();
    restored['q:2'].answer = 'changed by the caller';
    expect(queue.unsavedFields('q:2')).toEqual({ answer: 'x' });
  });
});

describe('SaveQueue: refused edits', () => {
  it('does not retry an edit the server refused, reports it and shows the error', async () => {
    const { queue, requests, rejected, storage } = setup();
    queue.edit('q:1', { answer: 'too late' });
    await jest.advanceTimersByTimeAsync(DEBOUNCE_MS);
    const error = new Error('The exam has ended');
    await requests[0].fail(error);

    expect(rejected).toEqual([{ key: 'q:1', fields: { answer: 'too late' }, error }]);
    expect(queue.status).toBe('error');
    expect(queue.errorMessage).toBe('The exam has ended');
    expect(queue.hasUnsaved).toBe(false);
    expect(storage.unsaved).toEqual({});
    await jest.advanceTimersByTimeAsync(60_000);
    expect(requests).toHaveLength(1);
  });

  it('clears the error once a later save succeeds', async () => {
    const { queue, requests } = setup();
    queue.edit('q:1', { answer: 'x' });
    await jest.advanceTimersByTimeAsync(DEBOUNCE_MS);
    await requests[0].fail('refused');
    expect(queue.errorMessage).toBe('refused');
    queue.edit('q:1', { answer: 'y' });
    await jest.advanceTimersByTimeAsync(DEBOUNCE_MS);
    await requests[1].succeed();
    expect(queue.status).toBe('saved');
    expect(queue.errorMessage).toBeNull();
  });

  it('still sends what was typed while the refused request was under way', async () => {
    const { queue, requests } = setup();
    queue.edit('q:1', { answer: 'x' });
    await jest.advanceTimersByTimeAsync(DEBOUNCE_MS);
    queue.edit('q:1', { note: 'meanwhile' });
    await requests[0].fail(new Error('invalid answer'));
    await jest.advanceTimersByTimeAsync(DEBOUNCE_MS);
    expect(requests.map((r) => r.fields)).toEqual([{ answer: 'x' }, { note: 'meanwhile' }]);
  });
});

describe('SaveQueue: discard and dispose', () => {
  it('discard drops every unsaved edit, from memory and storage, and sends nothing', async () => {
    const { queue, requests, storage } = setup();
    queue.edit('q:1', { answer: 'x' });
    queue.discard();
    expect(queue.hasUnsaved).toBe(false);
    expect(queue.status).toBe('saved');
    expect(storage.unsaved).toEqual({});
    await jest.advanceTimersByTimeAsync(60_000);
    expect(requests).toHaveLength(0);
  });

  it('discard stops the offline retries', async () => {
    const { queue, requests } = setup();
    queue.edit('q:1', { answer: 'x' });
    await jest.advanceTimersByTimeAsync(DEBOUNCE_MS);
    await requests[0].fail(new Offline());
    queue.discard();
    expect(queue.status).toBe('saved');
    await jest.advanceTimersByTimeAsync(60_000);
    expect(requests).toHaveLength(1);
  });

  it('dispose stops the offline retries, however many tasks failed', async () => {
    const { queue, requests } = setup();
    queue.edit('q:1', { answer: 'one' });
    queue.edit('q:2', { answer: 'two' });
    queue.edit('q:3', { answer: 'three' });
    await jest.advanceTimersByTimeAsync(DEBOUNCE_MS);
    await Promise.all(requests.map((r) => r.fail(new Offline())));
    queue.dispose();
    await jest.advanceTimersByTimeAsync(120_000);
    expect(requests).toHaveLength(3);
  });

  it('dispose cancels the pending save but keeps the edit persisted for the next page', async () => {
    const { queue, requests, storage } = setup();
    queue.edit('q:1', { answer: 'x' });
    queue.dispose();
    await jest.advanceTimersByTimeAsync(60_000);
    expect(requests).toHaveLength(0);
    expect(storage.unsaved).toEqual({ 'q:1': { answer: 'x' } });
  });
});
