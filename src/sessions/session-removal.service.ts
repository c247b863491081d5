import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import { DomainError, ErrorCode } from '../errors/domain-error.js';
import { CheckResult } from '../grading/check-result.entity.js';
import { GradeRun } from '../grading/grade-run.entity.js';
import { Invitation } from '../invitations/invitation.entity.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import { ProvisioningService } from '../provisioning/provisioning.service.js';
import { RecordingsService } from '../terminal/recordings.service.js';
import { SessionEvent } from './session-event.entity.js';
import { SessionQuestion } from './session-question.entity.js';
import { ENDED_STATES, SessionState } from './session-state.js';
import { Session } from './session.entity.js';

/** States in which a session may be removed: nothing runs for it any more. */
const REMOVABLE: readonly SessionState[] = [
  ...ENDED_STATES.filter((s) => s !== SessionState.GRADING),
  SessionState.ABANDONED,
  SessionState.PROVISIONING_FAILED,
];

/**
 * Removes an ended session with everything recorded about it: its report
 * (grade runs and check results), history, questions, invitation and
 * terminal recording, and frees its environment at once (namespaces still
 * kept for review hold node capacity that new sessions wait for). A cluster
 * that cannot be reached then is left to the sweeper, which removes an
 * unknown session's objects once their retention has passed.
 */
@Injectable()
export class SessionRemovalService {
  private readonly logger: Logger;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly recordings: RecordingsService,
    private readonly provisioning: ProvisioningService,
    @Inject(ROOT_LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ context: 'SessionRemoval' });
  }

  async remove(sessionId: string): Promise<void> {
    const ended = await this.dataSource.manager.findOneBy(Session, { id: sessionId });
    if (ended && REMOVABLE.includes(ended.state) && !ended.tornDownAt) {
      try {
        await this.provisioning.teardown(ended);
      } catch (error) {
        this.logger.warn(
          { sessionId, err: (error as Error).message },
          'cannot tear the removed session down now; the sweeper will',
        );
      }
    }
    await this.dataSource.transaction(async (manager) => {
      const session = await manager.findOneBy(Session, { id: sessionId });
      if (!session) throw new DomainError(ErrorCode.SESSION_NOT_FOUND, `No session ${sessionId}`);
      if (!REMOVABLE.includes(session.state)) {
        throw new DomainError(
          ErrorCode.SESSION_NOT_ENDED,
          `A session is removed once it has ended and is not being graded (it is ${session.state})`,
          { state: session.state },
        );
      }
      const runs = await manager.find(GradeRun, { where: { sessionId }, select: { id: true } });
      if (runs.length) {
        await manager.delete(CheckResult, { gradeRunId: In(runs.map((r) => r.id)) });
      }
      await manager.delete(GradeRun, { sessionId });
      await manager.delete(SessionEvent, { sessionId });
      await manager.delete(Invitation, { sessionId });
      await manager.delete(SessionQuestion, { sessionId });
      await manager.delete(Session, { id: sessionId });
    });
    // After the commit: a failed transaction keeps the recording with its report.
    await this.recordings.remove(sessionId);
  }
}
