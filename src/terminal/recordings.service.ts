import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { existsSync } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Repository } from 'typeorm';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { DomainError, ErrorCode } from '../errors/domain-error.js';
import { ENDED_STATES, SessionState } from '../sessions/session-state.js';
import { Session } from '../sessions/session.entity.js';

/**
 * Terminal recordings (asciicast v2), one file per session in
 * TERMINAL_RECORDINGS_DIR, kept as long as the session and its report.
 * Staff read any; a candidate reads their own once the exam has ended (while
 * it runs, the recording would only echo their own screen back, and a
 * half-written file is not a record).
 */
@Injectable()
export class RecordingsService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectRepository(Session) private readonly sessions: Repository<Session>,
  ) {}

  path(sessionId: string): string {
    return join(this.config.terminal.recordingsDir, `${sessionId}.cast`);
  }

  async staffPath(sessionId: string): Promise<string> {
    if (!(await this.sessions.existsBy({ id: sessionId }))) {
      throw new DomainError(ErrorCode.SESSION_NOT_FOUND, `No session ${sessionId}`);
    }
    return this.existing(sessionId);
  }

  async candidatePath(sessionId: string): Promise<string> {
    const session = await this.sessions.findOneBy({ id: sessionId });
    if (!session) throw new DomainError(ErrorCode.SESSION_NOT_FOUND, `No session ${sessionId}`);
    if (!ENDED_STATES.includes(session.state) && session.state !== SessionState.ABANDONED) {
      throw new DomainError(
        ErrorCode.SESSION_NOT_ENDED,
        'The recording is available once the exam has ended',
        { state: session.state },
      );
    }
    return this.existing(sessionId);
  }

  /**
   * The recording for the staff report's player: its size, and its text when
   * it is small enough to embed in the page (undefined: there is none).
   */
  async forReport(
    sessionId: string,
    maxBytes: number,
  ): Promise<{ cast?: string; sizeBytes: number } | undefined> {
    const info = await stat(this.path(sessionId)).catch(() => undefined);
    if (!info) return undefined;
    if (info.size > maxBytes) return { sizeBytes: info.size };
    return { cast: await readFile(this.path(sessionId), 'utf8'), sizeBytes: info.size };
  }

  async remove(sessionId: string): Promise<void> {
    await rm(this.path(sessionId), { force: true });
  }

  private existing(sessionId: string): string {
    const path = this.path(sessionId);
    if (!existsSync(path)) {
      throw new DomainError(
        ErrorCode.RECORDING_NOT_FOUND,
        'This session has no terminal recording',
        {
          sessionId,
        },
      );
    }
    return path;
  }
}
