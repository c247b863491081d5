import { describe, expect, it } from '@jest/globals';
import { afterClose, parseServerMessage, STOP_MESSAGES, terminalUrl } from './terminal-protocol.js';

describe('parseServerMessage', () => {
  it('reads ready, pong and notice', () => {
    expect(
      parseServerMessage('{"type":"ready","resumed":true,"replayedBytes":120,"graceSeconds":600}'),
    ).toEqual({ type: 'ready', resumed: true, replayedBytes: 120, graceSeconds: 600 });
    expect(parseServerMessage('{"type":"pong","t":12.5}')).toEqual({ type: 'pong', t: 12.5 });
    expect(
      parseServerMessage('{"type":"notice","code":"taken-over","message":"Opened elsewhere."}'),
    ).toEqual({ type: 'notice', code: 'taken-over', message: 'Opened elsewhere.' });
  });

  it('fills in what an older or newer server leaves out of ready', () => {
    expect(parseServerMessage('{"type":"ready"}')).toEqual({
      type: 'ready',
      resumed: false,
      replayedBytes: 0,
      graceSeconds: 0,
    });
  });

  it('ignores what it does not know, and what is not JSON', () => {
    expect(parseServerMessage('not json')).toBeUndefined();
    expect(parseServerMessage('null')).toBeUndefined();
    expect(parseServerMessage('42')).toBeUndefined();
    expect(parseServerMessage('{"type":"hello"}')).toBeUndefined();
    expect(parseServerMessage('{"type":"pong"}')).toBeUndefined();
    expect(parseServerMessage('{"type":"notice","code":"party","message":"x"}')).toBeUndefined();
    expect(parseServerMessage('{"type":"notice","code":"ended"}')).toBeUndefined();
  });
});

describe('afterClose', () => {
  it('stays closed, with the reason, for the application’s codes', () => {
    expect(afterClose(4001)).toEqual({ reconnect: false, reason: 'taken-over' });
    expect(afterClose(4002)).toEqual({ reconnect: false, reason: 'ended' });
    expect(afterClose(4003)).toEqual({ reconnect: false, reason: 'shell-exited' });
    expect(afterClose(4009)).toEqual({ reconnect: false, reason: 'not-available' });
  });

  it('reconnects after a restart, an error, a drop and anything else', () => {
    for (const code of [1000, 1001, 1006, 1011, 1012, 1013, 4000, 4999]) {
      expect(afterClose(code)).toEqual({ reconnect: true });
    }
  });

  it('has words for every reason', () => {
    for (const reason of ['taken-over', 'ended', 'shell-exited', 'not-available'] as const) {
      expect(STOP_MESSAGES[reason]).toMatch(/\w/);
    }
  });
});

describe('terminalUrl', () => {
  it('uses ws on http and wss on https, on the page’s own host and port', () => {
    expect(terminalUrl({ protocol: 'http:', host: '127.0.0.1:3000' }, { cols: 80, rows: 24 })).toBe(
      'ws://127.0.0.1:3000/api/sessions/me/terminal?cols=80&rows=24',
    );
    expect(terminalUrl({ protocol: 'https:', host: 'exam.example' }, { cols: 132, rows: 50 })).toBe(
      'wss://exam.example/api/sessions/me/terminal?cols=132&rows=50',
    );
  });
});
