import { afterEach, describe, expect, it } from '@jest/globals';
import type { SessionView } from './api.js';
import { openTabChannel, type TabChannel, type TabMessage } from './sync.js';

/**
 * Node has BroadcastChannel, with the browser's semantics (same name, same
 * origin; not delivered to the sender): the tabs here are real channels.
 */
describe('openTabChannel', () => {
  const open: TabChannel[] = [];

  /** A tab of the session, recording what it receives. */
  function tab(sessionId: string) {
    const received: TabMessage[] = [];
    let onReceive = () => {};
    const channel = openTabChannel(sessionId, (message) => {
      received.push(message);
      onReceive();
    });
    open.push(channel);
    return {
      channel,
      received,
      /** Resolves once `count` messages have arrived. */
      receive: (count: number) =>
        new Promise<TabMessage[]>((resolve) => {
          const check = () => received.length >= count && resolve(received);
          onReceive = check;
          check();
        }),
    };
  }

  afterEach(() => {
    for (const channel of open.splice(0)) channel.close();
  });

  it('delivers what one tab saves to the other tabs of the same session, not to itself', async () => {
    const a = tab('s1');
    const b = tab('s1');
    const c = tab('s1');
    const saved: TabMessage = {
      type: 'question-saved',
      questionId: 'q2',
      fields: { answer: '3', flagged: true, note: null },
    };
    a.channel.post(saved);
    expect(await b.receive(1)).toEqual([saved]);
    expect(await c.receive(1)).toEqual([saved]);

    // A's own message came back to no one; b's reply reaches a.
    b.channel.post({ type: 'visited', questionId: 'q4' });
    expect(await a.receive(1)).toEqual([{ type: 'visited', questionId: 'q4' }]);
  });

  it('carries a whole session view', async () => {
    const a = tab('s1');
    const b = tab('s1');
    const session = { id: 's1', state: 'submitted', questions: [] } as unknown as SessionView;
    a.channel.post({ type: 'session', session });
    expect(await b.receive(1)).toEqual([{ type: 'session', session }]);
  });

  it('keeps sessions apart', async () => {
    const mine = tab('s1');
    const other = tab('s2');
    const otherSender = tab('s2');
    mine.channel.post({ type: 'left' });
    // The other session hears its own traffic but never this session's.
    otherSender.channel.post({ type: 'notepad-saved', notepad: 'theirs' });
    await other.receive(1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(other.received).toEqual([{ type: 'notepad-saved', notepad: 'theirs' }]);
  });

  it('stops delivering once closed', async () => {
    const a = tab('s1');
    const b = tab('s1');
    const witness = tab('s1');
    b.channel.close();
    a.channel.post({ type: 'left' });
    await witness.receive(1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(b.received).toEqual([]);
  });

  it('does nothing, and does not fail, where BroadcastChannel is missing', () => {
    const globals = globalThis as unknown as Record<string, unknown>;
    const saved = globals.BroadcastChannel;
    delete globals.BroadcastChannel;
    try {
      const channel = openTabChannel('s1', () => {
        throw new Error('no message expected');
      });
      expect(() => channel.post({ type: 'left' })).not.toThrow();
      expect(() => channel.close()).not.toThrow();
    } finally {
      globals.BroadcastChannel = saved;
    }
  });
});
