import { Module } from '@nestjs/common';
import { ExamsModule } from '../exams/exams.module.js';
import { ProvisioningModule } from '../provisioning/provisioning.module.js';
import { QuestionBankModule } from '../question-bank/question-bank.module.js';
import { LiveStateService } from './live-state.service.js';
import { SessionLifecycleService } from './session-lifecycle.service.js';
import { SessionsController } from './sessions.controller.js';
import { SessionsService } from './sessions.service.js';

/** Sessions and their lifecycle. The reconciler is provided by WorkerModule: it runs only where workers run. */
@Module({
  imports: [ExamsModule, QuestionBankModule, ProvisioningModule],
  controllers: [SessionsController],
  providers: [SessionsService, SessionLifecycleService, LiveStateService],
  exports: [SessionLifecycleService, SessionsService],
})
export class SessionsModule {}
