import { StringDecoder } from 'node:string_decoder';
import WebSocket from 'ws';

export interface TerminalNotice {
  type: string;
  code?: string;
  message?: string;
  resumed?: boolean;
  replayedBytes?: number;
}

/**
 * A terminal client over a real WebSocket, as the browser's: binary frames in
 * and out, JSON control frames. Collects the screen's text (decoded as a
 * stream) and every control message.
 */
export class TerminalClient {
  text = '';
  readonly controls: TerminalNotice[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly decoder = new StringDecoder('utf8');

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, binary: boolean) => {
      if (binary) this.text += this.decoder.write(data);
      else this.controls.push(JSON.parse(data.toString('utf8')) as TerminalNotice);
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
  }

  /** Connects with the session's bearer token (or the given headers) and waits for `ready`. */
  static async open(
    baseUrl: string,
    headers: Record<string, string>,
    size = { cols: 120, rows: 40 },
  ): Promise<TerminalClient> {
    const url = `${baseUrl.replace(/^http/, 'ws')}/api/sessions/me/terminal?cols=${size.cols}&rows=${size.rows}`;
    const ws = new WebSocket(url, { headers });
    const client = new TerminalClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => reject(new UpgradeRefused(res.statusCode ?? 0, body)));
      });
      ws.once('error', reject);
    });
    await client.waitForControl((c) => c.type === 'ready' || c.type === 'notice');
    return client;
  }

  type(text: string): void {
    this.ws.send(Buffer.from(text, 'utf8'), { binary: true });
  }

  resize(cols: number, rows: number): void {
    this.ws.send(JSON.stringify({ type: 'resize', cols, rows }));
  }

  /** Runs a command and resolves with what it printed between two unique markers. */
  async run(command: string, timeoutMs = 15_000): Promise<string> {
    const id = Math.random().toString(36).slice(2, 8);
    const start = `<<${id}>>`;
    const end = `<<${id}-end>>`;
    const from = this.text.length;
    // The markers are printed by printf from split strings, so the echoed command line never matches them.
    this.type(`printf '<<%s>>\\n' ${id}; ${command}; printf '<<%s-end>>\\n' ${id}\r`);
    await this.waitFor(new RegExp(`${escape(end)}`), timeoutMs, from);
    const screen = this.text.slice(from);
    const body = screen.slice(
      screen.lastIndexOf(`${start}\r\n`) + start.length + 2,
      screen.lastIndexOf(end),
    );
    return body.replace(/\r/g, '');
  }

  async waitFor(pattern: RegExp, timeoutMs = 15_000, from = 0): Promise<string> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const match = pattern.exec(this.text.slice(from));
      if (match) return match[0];
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`terminal never showed ${pattern}; it showed:\n${this.text.slice(-2000)}`);
  }

  async waitForControl(
    test: (c: TerminalNotice) => boolean,
    timeoutMs = 15_000,
  ): Promise<TerminalNotice> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const found = this.controls.find(test);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no such control message; got ${JSON.stringify(this.controls)}`);
  }

  close(): void {
    this.ws.close();
  }
}

export class UpgradeRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`upgrade refused: ${status} ${body}`);
  }
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\<>-]/g, '\\$&');
}
