import { Inject, Injectable, type MessageEvent, type OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { Observable, type Subscriber } from 'rxjs';
import { DataSource, In } from 'typeorm';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import { SessionQuestion } from './session-question.entity.js';
import { SessionState } from './session-state.js';
import { Session } from './session.entity.js';
import { CANDIDATE_SETUP_FAILURE } from './candidate-messages.js';

/** What a console needs to follow its session: pushed at connect and on every change. */
export interface LiveState {
  /** Setup progress while the briefing is shown (provisioning, ready); empty after Begin. */
  state: string;
  deadline: string | null;
  readyUntil: string | null;
  serverTime: string;
  questions: { questionId: string; setupStatus: string; setupMessage: string | null }[];
}

/** How often the sessions that have a console open are read (one query for all of them). */
const TICK_MS = 500;
/** Proxies and load balancers close streams that stay silent. */
const PING_MS = 15_000;

/**
 * Live session state for the browser console, as Server-Sent Events. Changes
 * can happen in any process (a worker provisions, expires, grades), so
 * rather than listen for them this reads, twice a second, the state of every
 * session that has a console open here, in one query, and pushes what
 * changed: the database stays the one source of truth, and 500 consoles cost
 * two queries a second, not 500 polls.
 */
@Injectable()
export class LiveStateService implements OnModuleDestroy {
  private readonly logger: Logger;
  /** Per session, each console's stream and what it was last sent (to push only changes). */
  private readonly watchers = new Map<string, Map<Subscriber<MessageEvent>, string | undefined>>();
  private ticker: NodeJS.Timeout | undefined;
  private pinger: NodeJS.Timeout | undefined;
  private ticking = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(ROOT_LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ context: 'LiveState' });
  }

  get connections(): number {
    let count = 0;
    for (const streams of this.watchers.values()) count += streams.size;
    return count;
  }

  /** The stream of one session's state; its current state first. */
  follow(sessionId: string): Observable<MessageEvent> {
    return new Observable<MessageEvent>((subscriber) => {
      let streams = this.watchers.get(sessionId);
      if (!streams) this.watchers.set(sessionId, (streams = new Map()));
      streams.set(subscriber, undefined);
      this.start();
      // A new console gets the state now, not at the next change.
      void this.snapshots([sessionId])
        .then((states) => {
          const state = states.get(sessionId);
          if (state) this.send(streams, subscriber, state);
        })
        .catch((error: unknown) => subscriber.error(error));
      return () => {
        streams.delete(subscriber);
        if (!streams.size) this.watchers.delete(sessionId);
        if (!this.watchers.size) this.stop();
      };
    });
  }

  /** Sends `state` unless this stream was last sent the same (the time aside). */
  private send(
    streams: Map<Subscriber<MessageEvent>, string | undefined>,
    subscriber: Subscriber<MessageEvent>,
    state: LiveState,
  ): void {
    if (!streams.has(subscriber)) return; // closed meanwhile
    const key = JSON.stringify({ ...state, serverTime: undefined });
    if (streams.get(subscriber) === key) return;
    streams.set(subscriber, key);
    subscriber.next({ type: 'state', data: state });
  }

  onModuleDestroy(): void {
    for (const streams of this.watchers.values()) for (const s of streams.keys()) s.complete();
    this.watchers.clear();
    this.stop();
  }

  private start(): void {
    if (this.ticker) return;
    this.ticker = setInterval(() => void this.tick(), TICK_MS);
    this.pinger = setInterval(() => this.ping(), PING_MS);
    this.ticker.unref();
    this.pinger.unref();
  }

  private stop(): void {
    clearInterval(this.ticker);
    clearInterval(this.pinger);
    this.ticker = this.pinger = undefined;
  }

  private ping(): void {
    const data = { serverTime: new Date().toISOString() };
    for (const streams of this.watchers.values())
      for (const s of streams.keys()) s.next({ type: 'ping', data });
  }

  private async tick(): Promise<void> {
    if (this.ticking || !this.watchers.size) return; // a slow database: skip, do not pile up
    this.ticking = true;
    try {
      const states = await this.snapshots([...this.watchers.keys()]);
      for (const [sessionId, state] of states) {
        const streams = this.watchers.get(sessionId);
        for (const subscriber of streams?.keys() ?? []) this.send(streams!, subscriber, state);
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'could not read live session states; will try again');
    } finally {
      this.ticking = false;
    }
  }

  private async snapshots(sessionIds: string[]): Promise<Map<string, LiveState>> {
    const out = new Map<string, LiveState>();
    if (!sessionIds.length) return out;
    const sessions = await this.dataSource.getRepository(Session).find({
      where: { id: In(sessionIds) },
      select: { id: true, state: true, deadline: true, readyUntil: true },
    });
    // Setup progress matters only until the exam begins (the briefing shows it).
    const briefing: string[] = [
      SessionState.PROVISIONING,
      SessionState.PROVISIONING_FAILED,
      SessionState.READY,
    ];
    const building = sessions.filter((s) => briefing.includes(s.state)).map((s) => s.id);
    const questions = building.length
      ? await this.dataSource.getRepository(SessionQuestion).find({
          where: { sessionId: In(building) },
          select: {
            sessionId: true,
            questionId: true,
            setupStatus: true,
            setupMessage: true,
            position: true,
          },
          order: { position: 'ASC' },
        })
      : [];
    const now = new Date().toISOString();
    for (const session of sessions) {
      // Past its deadline an active session takes no more writes (they are
      // conditional on the deadline in SQL): consoles are told at once, not
      // when the expiry job (or, under load, the reconciler) gets to it.
      const due =
        session.state === SessionState.ACTIVE &&
        session.deadline !== null &&
        session.deadline.getTime() <= Date.now();
      out.set(session.id, {
        state: due ? SessionState.EXPIRED : session.state,
        deadline: session.deadline?.toISOString() ?? null,
        readyUntil:
          session.state === SessionState.READY ? (session.readyUntil?.toISOString() ?? null) : null,
        serverTime: now,
        questions: questions
          .filter((q) => q.sessionId === session.id)
          .map((q) => ({
            questionId: q.questionId,
            setupStatus: q.setupStatus,
            setupMessage: q.setupMessage ? CANDIDATE_SETUP_FAILURE : null,
          })),
      });
    }
    return out;
  }
}
