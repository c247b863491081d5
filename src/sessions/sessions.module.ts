import { Module } from '@nestjs/common';
import { EnvironmentsModule } from '../environments/environments.module.js';
import { ExamsModule } from '../exams/exams.module.js';
import { ProvisioningModule } from '../provisioning/provisioning.module.js';
import { QuestionBankModule } from '../question-bank/question-bank.module.js';
import { RecordingsModule } from '../terminal/recordings.module.js';
import { AccessRevocationService } from './access-revocation.service.js';
import { LiveStateService } from './live-state.service.js';
import { SessionRemovalService } from './session-removal.service.js';
import { SessionLifecycleService } from './session-lifecycle.service.js';
import { SessionsController } from './sessions.controller.js';
import { SessionsService } from './sessions.service.js';

/** Sessions and their lifecycle. The reconciler is provided by WorkerModule: it runs only where workers run. */
@Module({
  imports: [
    ExamsModule,
    QuestionBankModule,
    ProvisioningModule,
    RecordingsModule,
    EnvironmentsModule,
  ],
  controllers: [SessionsController],
  providers: [
    SessionsService,
    SessionLifecycleService,
    LiveStateService,
    SessionRemovalService,
    AccessRevocationService,
  ],
  exports: [SessionLifecycleService, SessionsService, AccessRevocationService],
})
export class SessionsModule {}
