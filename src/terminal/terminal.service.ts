import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { In, Repository } from 'typeorm';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { DomainError, ErrorCode } from '../errors/domain-error.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { SessionLifecycleService } from '../sessions/session-lifecycle.service.js';
import { ENDED_STATES, SessionState } from '../sessions/session-state.js';
import { Session } from '../sessions/session.entity.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { AsciicastRecorder } from './asciicast.js';
import { RecordingsService } from './recordings.service.js';
import { ReplayBuffer } from './replay-buffer.js';
import { type Shell, TERMINAL_HOST, type TerminalHost } from './terminal-host.js';
import { CloseCode, type NoticeCode, type ServerMessage } from './terminal.protocol.js';

/** One connected browser terminal, as the service sees it (the gateway adapts a WebSocket). */
export interface TerminalClient {
  output(chunk: Buffer): void;
  control(message: ServerMessage): void;
  close(code: number, reason: string): void;
  /** Bytes accepted for sending but not yet written to the network. */
  bufferedAmount(): number;
  /** Drops the connection without a closing handshake. */
  terminate(): void;
}

export type EndReason =
  'deadline' | 'submitted' | 'ended' | 'grace' | 'exit' | 'shutdown' | 'error';

/** Why a session ended, as the candidate reads it in the terminal. */
const NOTICES: Record<
  Exclude<EndReason, 'grace'>,
  { code: NoticeCode; message: string; close: number }
> = {
  deadline: {
    code: 'time-up',
    message: 'Time is up: the terminal is closed.',
    close: CloseCode.SESSION_ENDED,
  },
  submitted: {
    code: 'submitted',
    message: 'The exam was submitted: the terminal is closed.',
    close: CloseCode.SESSION_ENDED,
  },
  ended: {
    code: 'ended',
    message: 'The exam has ended: the terminal is closed.',
    close: CloseCode.SESSION_ENDED,
  },
  exit: {
    code: 'shell-exited',
    message: 'The shell exited. Reconnect to start a new one.',
    close: CloseCode.SHELL_EXITED,
  },
  shutdown: {
    code: 'restarting',
    message: 'The exam service is restarting: reconnect in a moment.',
    close: CloseCode.RESTARTING,
  },
  error: {
    code: 'error',
    message: 'The terminal failed. Reconnect to start a new shell.',
    close: CloseCode.INTERNAL,
  },
};

/** Above this many unsent bytes on the socket the shell is paused; below the low mark it resumes. */
const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;
const WATCH_MS = 1000;
/** Typed or pasted bytes the shell has not taken yet, at most. */
const MAX_PENDING_INPUT = 1024 * 1024;
/** A taken-over connection that does not close within this is cut. */
const CLOSE_GRACE_MS = 2000;
const HOME_SWEEP_MS = 60_000;

interface Terminal {
  sessionId: string;
  shell: Shell;
  client?: TerminalClient;
  replay: ReplayBuffer;
  recorder: AsciicastRecorder;
  deadline: number;
  deadlineTimer: NodeJS.Timeout;
  graceTimer?: NodeJS.Timeout;
  drainTimer?: NodeJS.Timeout;
  pausedByClient: boolean;
  pausedByBuffer: boolean;
  inputDropped?: boolean;
  ending: boolean;
  /** Set once ending: resolves when every process is gone and the recording closed. */
  ended?: Promise<void>;
}

/**
 * One shell per session: started by the first connection, taken over (with
 * the recent output replayed) by the next, kept for a grace period after a
 * connection drops, and ended — every process of it — at the deadline, at a
 * submit, when the session otherwise ends, and when the engine stops. The
 * terminal's output is recorded for reviewers.
 */
@Injectable()
export class TerminalService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger: Logger;
  private readonly terminals = new Map<string, Terminal>();
  /** Connections being set up, per session, so two at once do not start two shells. */
  private readonly opening = new Map<string, Promise<unknown>>();
  private available = false;
  private unavailableReason = 'the terminal is starting';
  private watcher?: NodeJS.Timeout;
  private homeSweeper?: NodeJS.Timeout;
  private watching = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(TERMINAL_HOST) private readonly host: TerminalHost,
    @InjectRepository(Session) private readonly sessions: Repository<Session>,
    private readonly sessionsService: SessionsService,
    private readonly lifecycle: SessionLifecycleService,
    private readonly metrics: MetricsService,
    private readonly recordings: RecordingsService,
    @Inject(ROOT_LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ context: 'Terminal' });
  }

  async onApplicationBootstrap(): Promise<void> {
    const wanted = this.config.terminal.enabled;
    if (wanted === false) {
      this.unavailableReason = 'the terminal is turned off on this server (TERMINAL_ENABLED=false)';
      return;
    }
    const status = await this.host.start();
    if (!status.available) {
      this.unavailableReason = `the terminal cannot run on this server: ${status.reason}`;
      if (wanted === true) throw new Error(`TERMINAL_ENABLED=true, but ${this.unavailableReason}`);
      this.logger.warn(
        { reason: status.reason },
        'terminal off: the console offers the kubeconfig instead',
      );
      return;
    }
    this.available = true;
    this.lifecycle.onTransition((sessionId, to) => {
      if (to !== SessionState.ACTIVE) void this.sessionEnded(sessionId, to);
    });
    this.watcher = setInterval(() => void this.watch(), WATCH_MS);
    this.watcher.unref();
    this.homeSweeper = setInterval(() => void this.sweepHomes(), HOME_SWEEP_MS);
    this.homeSweeper.unref();
    await this.sweepHomes();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.watcher);
    clearInterval(this.homeSweeper);
    await Promise.all([...this.terminals.keys()].map((id) => this.end(id, 'shutdown')));
    if (this.available) await this.host.close();
  }

  status(): { available: boolean; reason?: string } {
    return this.available
      ? { available: true }
      : { available: false, reason: this.unavailableReason };
  }

  /**
   * Attaches a connection to the session's shell, starting one if there is
   * none. Refused (a DomainError) unless the session is active and within
   * its deadline.
   */
  async connect(
    sessionId: string,
    client: TerminalClient,
    size: { cols: number; rows: number },
  ): Promise<void> {
    if (!this.available)
      throw new DomainError(ErrorCode.TERMINAL_UNAVAILABLE, this.unavailableReason);
    const previous = this.opening.get(sessionId) ?? Promise.resolve();
    const attempt = previous
      .catch(() => undefined)
      .then(() => this.attach(sessionId, client, size));
    this.opening.set(sessionId, attempt);
    try {
      await attempt;
    } finally {
      if (this.opening.get(sessionId) === attempt) this.opening.delete(sessionId);
    }
  }

  private async attach(
    sessionId: string,
    client: TerminalClient,
    size: { cols: number; rows: number },
  ): Promise<void> {
    const session = await this.sessions.findOneBy({ id: sessionId });
    if (!session) throw new DomainError(ErrorCode.SESSION_NOT_FOUND, `No session ${sessionId}`);
    const deadline = session.deadline?.getTime() ?? 0;
    if (session.state !== SessionState.ACTIVE || deadline <= Date.now()) {
      const ended = session.state === SessionState.ACTIVE || ENDED_STATES.includes(session.state);
      throw new DomainError(
        ended ? ErrorCode.SESSION_EXPIRED : ErrorCode.SESSION_NOT_ACTIVE,
        ended
          ? 'The exam has ended: the terminal is closed'
          : 'The exam has not begun: the terminal opens when it does',
        { state: session.state },
      );
    }
    let terminal = this.terminals.get(sessionId);
    if (terminal && !terminal.ending) {
      this.takeOver(terminal, client, size);
      return;
    }
    // A shell still being killed: its processes go before a new shell's files are written.
    await terminal?.ended;
    terminal = await this.start(session, deadline, client, size);
    client.control({
      type: 'ready',
      resumed: false,
      replayedBytes: 0,
      graceSeconds: this.config.terminal.graceMs / 1000,
    });
  }

  private takeOver(
    terminal: Terminal,
    client: TerminalClient,
    size: { cols: number; rows: number },
  ): void {
    const previous = terminal.client;
    if (previous) {
      previous.control({
        type: 'notice',
        code: 'taken-over',
        message: 'This terminal was opened in another window.',
      });
      previous.close(CloseCode.TAKEN_OVER, 'taken over');
      // A client that never answers the close would keep its unsent replay in memory.
      setTimeout(() => previous.terminate(), CLOSE_GRACE_MS).unref();
    }
    clearTimeout(terminal.graceTimer);
    terminal.graceTimer = undefined;
    terminal.client = client;
    terminal.pausedByBuffer = terminal.pausedByClient = false;
    this.applyPause(terminal);
    this.metrics.terminalReconnects.inc();
    this.metrics.terminalConnections.set(this.connectedCount());
    const replay = terminal.replay.contents();
    // Reset the new screen first: the replay starts from a clean terminal.
    client.output(Buffer.concat([Buffer.from('\x1bc'), replay]));
    terminal.shell.resize(size.cols, size.rows);
    terminal.recorder.resize(size.cols, size.rows);
    terminal.recorder.marker('reconnected');
    client.control({
      type: 'ready',
      resumed: true,
      replayedBytes: replay.length,
      graceSeconds: this.config.terminal.graceMs / 1000,
    });
    this.logger.info(
      { sessionId: terminal.sessionId, replayed: replay.length },
      'terminal taken over',
    );
  }

  private async start(
    session: Session,
    deadline: number,
    client: TerminalClient,
    size: { cols: number; rows: number },
  ): Promise<Terminal> {
    const started = performance.now();
    const sessionId = session.id;
    const kubeconfig = await this.sessionsService.kubeconfig(sessionId);
    const files = await this.sessionsService.homeFiles(sessionId);
    const nodeShells = await this.sessionsService.nodeShells(sessionId);
    const recorder = await AsciicastRecorder.open(
      this.recordings.path(sessionId),
      size,
      this.config.terminal.recordingMaxBytes,
      `${session.candidateName} — ${session.examId}`,
    );
    let shell: Shell;
    try {
      shell = await this.host.open({ sessionId, kubeconfig, files, nodeShells, ...size });
    } catch (error) {
      await recorder.close();
      this.logger.error({ sessionId, err: error }, 'could not start a shell');
      throw new DomainError(
        ErrorCode.TERMINAL_UNAVAILABLE,
        'The terminal could not start; try again in a moment',
      );
    }
    recorder.marker('shell started');
    const terminal: Terminal = {
      sessionId,
      shell,
      client,
      replay: new ReplayBuffer(this.config.terminal.replayBytes),
      recorder,
      deadline,
      // The local timer ends the shell on the second; the watcher catches the rest.
      deadlineTimer: setTimeout(
        () => void this.end(sessionId, 'deadline'),
        Math.min(deadline - Date.now(), 2 ** 31 - 1),
      ),
      pausedByClient: false,
      pausedByBuffer: false,
      ending: false,
    };
    terminal.deadlineTimer.unref();
    this.terminals.set(sessionId, terminal);
    shell.onData((chunk) => this.output(terminal, chunk));
    shell.onExit(() => {
      if (!terminal.ending) void this.end(sessionId, 'exit');
    });
    this.metrics.terminalsOpen.set(this.terminals.size);
    this.metrics.terminalConnections.set(this.connectedCount());
    this.metrics.terminalStart.observe((performance.now() - started) / 1000);
    this.logger.info(
      { sessionId, pid: shell.pid, ms: Math.round(performance.now() - started) },
      'shell started',
    );
    return terminal;
  }

  private output(terminal: Terminal, chunk: Buffer): void {
    this.metrics.terminalBytes.inc({ direction: 'out' }, chunk.length);
    terminal.replay.append(chunk);
    terminal.recorder.output(chunk);
    const client = terminal.client;
    if (!client) return;
    client.output(chunk);
    if (!terminal.pausedByBuffer && client.bufferedAmount() > HIGH_WATER) {
      terminal.pausedByBuffer = true;
      this.applyPause(terminal);
      terminal.drainTimer = setInterval(() => {
        if (terminal.client !== client || client.bufferedAmount() < LOW_WATER) {
          clearInterval(terminal.drainTimer);
          terminal.drainTimer = undefined;
          terminal.pausedByBuffer = false;
          this.applyPause(terminal);
        }
      }, 20);
    }
  }

  /**
   * The shell's output is read only while a connection can take it: a shell
   * flooding with nobody attached would otherwise cost the engine CPU for the
   * whole grace period. (It blocks on its terminal until someone connects.)
   */
  private applyPause(terminal: Terminal): void {
    if (terminal.pausedByBuffer || terminal.pausedByClient || !terminal.client) {
      terminal.shell.pause();
    } else {
      terminal.shell.resume();
    }
  }

  input(sessionId: string, client: TerminalClient, data: Buffer): void {
    const terminal = this.terminals.get(sessionId);
    if (!terminal || terminal.client !== client || terminal.ending) return;
    // A program that reads nothing (raw mode, a sleep) lets typed input pile up
    // in the engine: beyond a bound it is dropped, as a full terminal would.
    if (terminal.shell.pendingInput() > MAX_PENDING_INPUT) {
      if (!terminal.inputDropped) {
        terminal.inputDropped = true;
        client.control({
          type: 'notice',
          code: 'input-dropped',
          message: 'The shell is not reading what you type; input is dropped until it does.',
        });
      }
      return;
    }
    terminal.inputDropped = false;
    this.metrics.terminalBytes.inc({ direction: 'in' }, data.length);
    terminal.shell.write(data);
  }

  resize(sessionId: string, client: TerminalClient, cols: number, rows: number): void {
    const terminal = this.terminals.get(sessionId);
    if (!terminal || terminal.client !== client || terminal.ending) return;
    terminal.shell.resize(cols, rows);
    terminal.recorder.resize(cols, rows);
  }

  /** The browser asks to stop (its terminal is behind) or to go on. */
  flow(sessionId: string, client: TerminalClient, paused: boolean): void {
    const terminal = this.terminals.get(sessionId);
    if (!terminal || terminal.client !== client) return;
    terminal.pausedByClient = paused;
    this.applyPause(terminal);
  }

  /** The connection dropped: the shell waits for the grace period, then is ended. */
  disconnect(sessionId: string, client: TerminalClient): void {
    const terminal = this.terminals.get(sessionId);
    if (!terminal || terminal.client !== client) return;
    terminal.client = undefined;
    terminal.pausedByClient = terminal.pausedByBuffer = false;
    this.applyPause(terminal);
    this.metrics.terminalConnections.set(this.connectedCount());
    terminal.recorder.marker('disconnected');
    terminal.graceTimer = setTimeout(
      () => void this.end(sessionId, 'grace'),
      this.config.terminal.graceMs,
    );
    terminal.graceTimer.unref();
  }

  /** Processes of the session's shell still running on the host (tests, diagnostics). */
  processes(sessionId: string): Promise<number[]> {
    return this.host.processes(sessionId);
  }

  /** Ends the session's shell: the connection is told why and closed, every process killed. */
  async end(sessionId: string, reason: EndReason): Promise<void> {
    const terminal = this.terminals.get(sessionId);
    const sessionOver = reason === 'deadline' || reason === 'submitted' || reason === 'ended';
    if (!terminal || terminal.ending) {
      if (sessionOver) await this.release(sessionId);
      return;
    }
    terminal.ending = true;
    terminal.ended = this.finish(terminal, reason);
    await terminal.ended;
    if (sessionOver) await this.release(sessionId);
  }

  private async finish(terminal: Terminal, reason: EndReason): Promise<void> {
    const sessionId = terminal.sessionId;
    clearTimeout(terminal.deadlineTimer);
    clearTimeout(terminal.graceTimer);
    clearInterval(terminal.drainTimer);
    if (terminal.client && reason !== 'grace') {
      const notice = NOTICES[reason];
      terminal.client.control({ type: 'notice', code: notice.code, message: notice.message });
      terminal.client.close(notice.close, notice.code);
    }
    terminal.client = undefined;
    try {
      await terminal.shell.kill();
    } catch (error) {
      this.logger.error({ sessionId, err: error }, 'could not kill a shell');
    }
    terminal.recorder.marker(`shell ended: ${reason}`);
    await terminal.recorder.close();
    if (this.terminals.get(sessionId) === terminal) this.terminals.delete(sessionId);
    this.metrics.terminalKills.inc({ reason });
    this.metrics.terminalsOpen.set(this.terminals.size);
    this.metrics.terminalConnections.set(this.connectedCount());
    this.logger.info({ sessionId, reason }, 'shell ended');
  }

  private async release(sessionId: string): Promise<void> {
    await this.host
      .release(sessionId)
      .catch((error: unknown) =>
        this.logger.warn({ sessionId, err: error }, 'could not release a session’s terminal'),
      );
  }

  private async sessionEnded(sessionId: string, to: SessionState): Promise<void> {
    await this.end(
      sessionId,
      to === SessionState.SUBMITTED
        ? 'submitted'
        : to === SessionState.EXPIRED
          ? 'deadline'
          : 'ended',
    );
  }

  /** Ends shells whose session ended in another process (or whose deadline passed unnoticed). */
  private async watch(): Promise<void> {
    if (this.watching || !this.terminals.size) return;
    this.watching = true;
    try {
      const ids = [...this.terminals.keys()];
      const rows = await this.sessions.find({
        where: { id: In(ids) },
        select: { id: true, state: true, deadline: true },
      });
      const byId = new Map(rows.map((r) => [r.id, r]));
      for (const id of ids) {
        const row = byId.get(id);
        if (!row) await this.end(id, 'ended');
        else if (row.state !== SessionState.ACTIVE) await this.sessionEnded(id, row.state);
        else if ((row.deadline?.getTime() ?? 0) <= Date.now()) await this.end(id, 'deadline');
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'terminal watch failed; retrying');
    } finally {
      this.watching = false;
    }
  }

  /** Homes (and relays) kept for sessions that are no longer active: released. */
  private async sweepHomes(): Promise<void> {
    try {
      const kept = (await this.host.retained()).filter((id) => !this.terminals.has(id));
      if (!kept.length) return;
      const active = await this.sessions.find({
        where: { id: In(kept), state: SessionState.ACTIVE },
        select: { id: true, deadline: true },
      });
      const live = new Set(
        active.filter((s) => (s.deadline?.getTime() ?? 0) > Date.now()).map((s) => s.id),
      );
      for (const id of kept) if (!live.has(id)) await this.release(id);
    } catch (error) {
      this.logger.warn({ err: error }, 'terminal home sweep failed; retrying');
    }
  }

  private connectedCount(): number {
    let n = 0;
    for (const terminal of this.terminals.values()) if (terminal.client) n++;
    return n;
  }
}
