/**
 * The browser terminal's side of the engine's WebSocket protocol
 * (src/terminal/terminal.protocol.ts): binary frames are the terminal's
 * bytes both ways, text frames JSON control messages; close codes say
 * whether to connect again.
 */

export const TERMINAL_PATH = '/api/sessions/me/terminal';

export interface TerminalSize {
  cols: number;
  rows: number;
}

export type NoticeCode =
  | 'taken-over'
  | 'time-up'
  | 'submitted'
  | 'ended'
  | 'shell-exited'
  | 'restarting'
  | 'not-available'
  | 'error';

export type ServerMessage =
  | { type: 'ready'; resumed: boolean; replayedBytes: number; graceSeconds: number }
  | { type: 'pong'; t: number }
  | { type: 'notice'; code: NoticeCode; message: string };

export type ClientMessage =
  | { type: 'resize'; cols: number; rows: number }
  | { type: 'ping'; t: number }
  | { type: 'pause' }
  | { type: 'resume' };

export const CloseCode = {
  TAKEN_OVER: 4001,
  SESSION_ENDED: 4002,
  SHELL_EXITED: 4003,
  NOT_AVAILABLE: 4009,
} as const;

const NOTICE_CODES: ReadonlySet<string> = new Set<NoticeCode>([
  'taken-over',
  'time-up',
  'submitted',
  'ended',
  'shell-exited',
  'restarting',
  'not-available',
  'error',
]);

/** A server's text frame as a message, or undefined when it is not one this console knows. */
export function parseServerMessage(text: string): ServerMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!value || typeof value !== 'object') return undefined;
  const message = value as Record<string, unknown>;
  switch (message.type) {
    case 'ready':
      return {
        type: 'ready',
        resumed: message.resumed === true,
        replayedBytes: typeof message.replayedBytes === 'number' ? message.replayedBytes : 0,
        graceSeconds: typeof message.graceSeconds === 'number' ? message.graceSeconds : 0,
      };
    case 'pong':
      return typeof message.t === 'number' ? { type: 'pong', t: message.t } : undefined;
    case 'notice':
      return typeof message.code === 'string' &&
        NOTICE_CODES.has(message.code) &&
        typeof message.message === 'string'
        ? { type: 'notice', code: message.code as NoticeCode, message: message.message }
        : undefined;
    default:
      return undefined;
  }
}

/** Why the terminal stays closed until the candidate acts. */
export type StopReason = 'taken-over' | 'ended' | 'shell-exited' | 'not-available';

/**
 * What to do after the server closed the connection: the application's codes
 * each mean something the candidate must see (and, for some, act on); every
 * other close (a restart, a network drop, an error) is retried.
 */
export function afterClose(
  code: number,
): { reconnect: true } | { reconnect: false; reason: StopReason } {
  switch (code) {
    case CloseCode.TAKEN_OVER:
      return { reconnect: false, reason: 'taken-over' };
    case CloseCode.SESSION_ENDED:
      return { reconnect: false, reason: 'ended' };
    case CloseCode.SHELL_EXITED:
      return { reconnect: false, reason: 'shell-exited' };
    case CloseCode.NOT_AVAILABLE:
      return { reconnect: false, reason: 'not-available' };
    default:
      return { reconnect: true };
  }
}

/** What the candidate reads when the server closed without a notice of its own. */
export const STOP_MESSAGES: Record<StopReason, string> = {
  'taken-over': 'This terminal was opened in another window.',
  ended: 'The exam has ended: the terminal is closed.',
  'shell-exited': 'The shell exited.',
  'not-available': 'The terminal is not available.',
};

/** The WebSocket address of the terminal on the page's own host (the cookie goes with it). */
export function terminalUrl(
  location: { protocol: string; host: string },
  size: TerminalSize,
): string {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}${TERMINAL_PATH}?cols=${size.cols}&rows=${size.rows}`;
}
