import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { Authenticator } from '../auth/authenticator.js';
import { originIsHost, readCookie } from '../auth/session-cookie.js';
import { DomainError, ErrorCode, HTTP_STATUS_OF } from '../errors/domain-error.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import { RequestWindows } from '../throttling/request-windows.js';
import { type TerminalClient, TerminalService } from './terminal.service.js';
import {
  CloseCode,
  parseClientMessage,
  type ServerMessage,
  sizeOf,
  TERMINAL_PATH,
} from './terminal.protocol.js';

const PING_MS = 25_000;
/**
 * Connections per session per minute: reloads and reconnects stay far below;
 * a loop opening sockets (each taking the shell over, each replayed its
 * screen) is refused before the upgrade.
 */
const CONNECTS_PER_MINUTE = 30;
/** Above this many unsent bytes a ping is not answered (a client that does not read). */
const MAX_BUFFERED_FOR_PONG = 64 * 1024;
/** Typing and pasting: a frame larger than this is a client out of line. */
const MAX_FRAME = 64 * 1024;

/**
 * The terminal's WebSocket endpoint, `GET /api/sessions/me/terminal`
 * (upgraded): the candidate's own session only, by the session cookie (the
 * browser, whose `Origin` must be this site) or a bearer token (API clients).
 * Refusals before the upgrade are HTTP errors with the usual JSON body;
 * after it, a `notice` frame and a close code.
 */
@Injectable()
export class TerminalGateway
  implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown
{
  private readonly logger: Logger;
  private readonly server = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_FRAME,
    perMessageDeflate: false,
  });
  private httpServer?: Server;
  private readonly connects = new RequestWindows({ limit: CONNECTS_PER_MINUTE, windowMs: 60_000 });
  private readonly onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) =>
    void this.upgrade(request, socket, head);

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly authenticator: Authenticator,
    private readonly terminals: TerminalService,
    @Inject(ROOT_LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ context: 'TerminalGateway' });
  }

  onApplicationBootstrap(): void {
    this.httpServer = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    this.httpServer?.on('upgrade', this.onUpgrade);
  }

  onModuleDestroy(): void {
    // No new connections; the open ones are told the engine restarts (TerminalService ends their shells).
    this.httpServer?.off('upgrade', this.onUpgrade);
  }

  /** After every shell has ended: connections still open get a moment to close, then are cut. */
  async beforeApplicationShutdown(): Promise<void> {
    const until = Date.now() + 1000;
    while ([...this.server.clients].some((c) => c.readyState !== WebSocket.CLOSED)) {
      if (Date.now() > until) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (const client of this.server.clients) client.terminate();
    this.server.close();
  }

  private async upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => undefined);
    const url = new URL(request.url ?? '/', 'http://engine');
    if (url.pathname !== TERMINAL_PATH) {
      return refuse(
        socket,
        new DomainError(ErrorCode.NOT_FOUND, `No WebSocket at ${url.pathname}`),
      );
    }
    let sessionId: string;
    try {
      sessionId = await this.sessionOf(request);
    } catch (error) {
      return refuse(
        socket,
        error instanceof DomainError
          ? error
          : new DomainError(ErrorCode.INTERNAL, 'Could not check the sign-in'),
      );
    }
    const verdict = this.connects.count(sessionId);
    if (!verdict.allowed) {
      return refuse(
        socket,
        new DomainError(
          ErrorCode.TOO_MANY_REQUESTS,
          `Too many terminal connections; try again in ${Math.ceil(verdict.retryAfterMs / 1000)} s`,
        ),
      );
    }
    const size = sizeOf(url.searchParams.get('cols') ?? 80, url.searchParams.get('rows') ?? 24) ?? {
      cols: 80,
      rows: 24,
    };
    this.server.handleUpgrade(request, socket, head, (ws) => void this.serve(ws, sessionId, size));
  }

  /** The candidate's session from the bearer token or the cookie; a cookie needs this site's Origin. */
  private async sessionOf(request: IncomingMessage): Promise<string> {
    const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    const cookie = bearer ? undefined : readCookie(request);
    const token = bearer ?? cookie;
    if (!token) {
      throw new DomainError(
        ErrorCode.UNAUTHENTICATED,
        'Sign in first: the terminal belongs to a session',
      );
    }
    if (cookie && !originIsHost(request.headers)) {
      throw new DomainError(
        ErrorCode.CROSS_ORIGIN_REFUSED,
        'The terminal opens only from a page of this site',
      );
    }
    const principal = await this.authenticator.authenticate(token);
    if (principal.kind !== 'candidate') {
      throw new DomainError(ErrorCode.FORBIDDEN, 'The terminal is the candidate’s own');
    }
    return principal.sessionId;
  }

  private async serve(
    ws: WebSocket,
    sessionId: string,
    size: { cols: number; rows: number },
  ): Promise<void> {
    const client: TerminalClient = {
      output: (chunk) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(chunk, { binary: true });
      },
      control: (message: ServerMessage) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
      },
      close: (code, reason) => {
        if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)
          ws.close(code, reason);
      },
      bufferedAmount: () => ws.bufferedAmount,
      terminate: () => ws.terminate(),
    };
    // Frames that arrive while the shell starts wait for it (a bounded few).
    const early: { data: RawData; binary: boolean }[] = [];
    let earlyBytes = 0;
    let attached = false;
    const handle = (data: RawData, binary: boolean) => {
      if (!attached) {
        earlyBytes += toBuffer(data).length;
        if (earlyBytes > MAX_FRAME * 4) return ws.terminate();
        early.push({ data, binary });
        return;
      }
      if (binary) {
        this.terminals.input(sessionId, client, toBuffer(data));
        return;
      }
      const message = parseClientMessage(toBuffer(data).toString('utf8'));
      if (!message) return;
      switch (message.type) {
        case 'resize':
          this.terminals.resize(sessionId, client, message.cols, message.rows);
          break;
        case 'ping':
          if (ws.bufferedAmount < MAX_BUFFERED_FOR_PONG)
            client.control({ type: 'pong', t: message.t });
          break;
        case 'pause':
        case 'resume':
          this.terminals.flow(sessionId, client, message.type === 'pause');
          break;
      }
    };
    ws.on('message', handle);
    ws.on('error', () => undefined);
    let alive = true;
    ws.on('pong', () => (alive = true));
    const pinger = setInterval(() => {
      if (!alive) return ws.terminate();
      alive = false;
      ws.ping();
    }, PING_MS);
    ws.on('close', () => {
      clearInterval(pinger);
      this.terminals.disconnect(sessionId, client);
    });
    try {
      await this.terminals.connect(sessionId, client, size);
    } catch (error) {
      const known = error instanceof DomainError;
      if (!known) this.logger.error({ sessionId, err: error }, 'terminal connect failed');
      client.control({
        type: 'notice',
        code:
          known && error.code === ErrorCode.SESSION_EXPIRED
            ? 'ended'
            : known
              ? 'not-available'
              : 'error',
        message: known ? error.message : 'The terminal could not start; try again in a moment',
      });
      client.close(
        known && error.code === ErrorCode.SESSION_EXPIRED
          ? CloseCode.SESSION_ENDED
          : known
            ? CloseCode.NOT_AVAILABLE
            : CloseCode.INTERNAL,
        known ? error.code : 'error',
      );
      return;
    }
    attached = true;
    for (const frame of early.splice(0)) handle(frame.data, frame.binary);
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** A refusal before the upgrade: an HTTP answer with the engine's JSON error body. */
function refuse(socket: Duplex, error: DomainError): void {
  const status = HTTP_STATUS_OF[error.code];
  const body = JSON.stringify({ code: error.code, message: error.message });
  socket.end(
    `HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Error'}\r\n` +
      'Content-Type: application/json\r\nConnection: close\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
