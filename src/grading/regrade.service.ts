import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { DomainError, ErrorCode } from '../errors/domain-error.js';
import { JobName } from '../queue/jobs.js';
import { QueueService } from '../queue/queue.service.js';
import { SessionLifecycleService } from '../sessions/session-lifecycle.service.js';
import { SessionState } from '../sessions/session-state.js';
import { Session } from '../sessions/session.entity.js';

/** A trainer's regrade: a new run over the same (frozen) cluster state. */
@Injectable()
export class RegradeService {
  constructor(
    private readonly lifecycle: SessionLifecycleService,
    private readonly queues: QueueService,
    @InjectRepository(Session) private readonly sessions: Repository<Session>,
  ) {}

  async regrade(sessionId: string): Promise<{ sessionId: string; state: string }> {
    const session = await this.sessions.findOneBy({ id: sessionId });
    if (!session) throw new DomainError(ErrorCode.SESSION_NOT_FOUND, `No session ${sessionId}`);
    // Grading reads the live cluster: once torn down, a regrade would score an empty cluster.
    if (session.tornDownAt) {
      throw new DomainError(
        ErrorCode.REGRADE_UNAVAILABLE,
        `Session ${sessionId} was torn down at ${session.tornDownAt.toISOString()}; its cluster state is gone`,
      );
    }
    // A teardown in progress would have the regrade score a half-deleted cluster.
    if ((await this.queues.state(JobName.TEARDOWN_SESSION, { sessionId })) === 'active') {
      throw new DomainError(
        ErrorCode.REGRADE_UNAVAILABLE,
        `Session ${sessionId} is being torn down; its cluster state is going`,
      );
    }
    if (session.state !== SessionState.GRADING) {
      await this.lifecycle.transition(sessionId, SessionState.GRADING, 'regrade requested');
    }
    // A grading job that used up its attempts keeps its id for a day: run it again.
    if ((await this.queues.state(JobName.GRADE_SESSION, { sessionId })) === 'failed')
      await this.queues.retryFailed(JobName.GRADE_SESSION, { sessionId });
    else await this.lifecycle.enqueueSafely(JobName.GRADE_SESSION, { sessionId });
    return { sessionId, state: SessionState.GRADING };
  }
}
