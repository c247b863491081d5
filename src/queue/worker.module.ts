import { Module } from '@nestjs/common';
import { ClusterModule } from '../cluster/cluster.module.js';
import { EnvironmentsModule } from '../environments/environments.module.js';
import { PoolKeeper } from '../environments/pool-keeper.service.js';
import { QuestionBankModule } from '../question-bank/question-bank.module.js';
import { GradingModule } from '../grading/grading.module.js';
import { GradingProcessor } from '../grading/grading.processor.js';
import { ProvisioningModule } from '../provisioning/provisioning.module.js';
import { ProvisioningProcessor } from '../provisioning/provisioning.processor.js';
import { SessionSweeper } from '../provisioning/sweeper.service.js';
import { TeardownProcessor } from '../provisioning/teardown.processor.js';
import { AccessRevocationProcessor } from '../sessions/access-revocation.processor.js';
import { SessionExpiryProcessor } from '../sessions/session-expiry.processor.js';
import { SessionReconciler } from '../sessions/session-reconciler.service.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { JOB_PROCESSORS, type JobProcessor } from './job-processor.js';
import { WorkerService } from './worker.service.js';

const PROCESSORS = [
  SessionExpiryProcessor,
  AccessRevocationProcessor,
  ProvisioningProcessor,
  GradingProcessor,
  TeardownProcessor,
];

/**
 * The consumer side, loaded only in processes that run workers: every
 * feature's job processors, the worker host that dispatches to them (and
 * refuses to start if a job has none), the reconciler, the sweeper and the
 * keeper of the dedicated clusters' warm pool.
 */
@Module({
  imports: [
    SessionsModule,
    ProvisioningModule,
    ClusterModule,
    GradingModule,
    EnvironmentsModule,
    QuestionBankModule,
  ],
  providers: [
    ...PROCESSORS,
    {
      provide: JOB_PROCESSORS,
      inject: PROCESSORS,
      useFactory: (...processors: JobProcessor[]) => processors,
    },
    WorkerService,
    SessionReconciler,
    SessionSweeper,
    PoolKeeper,
  ],
})
export class WorkerModule {}
