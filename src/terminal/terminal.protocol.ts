/**
 * The terminal's WebSocket protocol. Binary frames carry the terminal's bytes
 * both ways, untouched (no per-chunk text decoding that would split a
 * multi-byte character); text frames carry JSON control messages.
 */
export const TERMINAL_PATH = '/api/sessions/me/terminal';

/** Close codes (4000–4999 are the application's). */
export const CloseCode = {
  /** Another connection (a reload, another tab) took the shell over. */
  TAKEN_OVER: 4001,
  /** The session ended (deadline, submit, leave): no shell any more. */
  SESSION_ENDED: 4002,
  /** The shell exited (`exit`, Ctrl+D); connecting again starts a new one. */
  SHELL_EXITED: 4003,
  /** The session is not running yet (or the terminal is off). */
  NOT_AVAILABLE: 4009,
  /** The engine is stopping; reconnect in a moment. */
  RESTARTING: 1012,
  INTERNAL: 1011,
} as const;

export type ClientMessage =
  | { type: 'resize'; cols: number; rows: number }
  | { type: 'ping'; t: number }
  /** The browser's terminal is behind (its write queue is above the high watermark). */
  | { type: 'pause' }
  | { type: 'resume' };

export type ServerMessage =
  | {
      type: 'ready';
      /** Whether this connection took over a running shell (and got its recent output). */
      resumed: boolean;
      replayedBytes: number;
      graceSeconds: number;
    }
  | { type: 'pong'; t: number }
  | { type: 'notice'; code: NoticeCode; message: string };

export type NoticeCode =
  | 'taken-over'
  | 'time-up'
  | 'submitted'
  | 'ended'
  | 'shell-exited'
  | 'restarting'
  | 'not-available'
  | 'input-dropped'
  | 'too-many-connections'
  | 'error';

export const MIN_COLS = 2;
export const MAX_COLS = 1000;
export const MIN_ROWS = 1;
export const MAX_ROWS = 500;

/** A client's text frame as a message, or undefined when it is not one we know. */
export function parseClientMessage(text: string): ClientMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!value || typeof value !== 'object') return undefined;
  const message = value as Record<string, unknown>;
  switch (message.type) {
    case 'resize': {
      const size = sizeOf(message.cols, message.rows);
      return size ? { type: 'resize', ...size } : undefined;
    }
    case 'ping':
      return typeof message.t === 'number' ? { type: 'ping', t: message.t } : undefined;
    case 'pause':
    case 'resume':
      return { type: message.type };
    default:
      return undefined;
  }
}

/** A terminal size within bounds, or undefined. */
export function sizeOf(cols: unknown, rows: unknown): { cols: number; rows: number } | undefined {
  const c = Number(cols);
  const r = Number(rows);
  if (!Number.isInteger(c) || !Number.isInteger(r)) return undefined;
  if (c < MIN_COLS || c > MAX_COLS || r < MIN_ROWS || r > MAX_ROWS) return undefined;
  return { cols: c, rows: r };
}
