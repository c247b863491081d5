import { Module } from '@nestjs/common';
import { ClusterModule } from '../cluster/cluster.module.js';
import { EnvironmentsModule } from '../environments/environments.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { RecordingsModule } from '../terminal/recordings.module.js';
import { CheckEvaluator } from './check-evaluator.js';
import { GradingController } from './grading.controller.js';
import { GradingService } from './grading.service.js';
import { RegradeService } from './regrade.service.js';
import { ReportService } from './report.service.js';

/** Grading runs, score reports, regrades and exports. The job processor is in WorkerModule. */
@Module({
  imports: [SessionsModule, ClusterModule, RecordingsModule, EnvironmentsModule],
  controllers: [GradingController],
  providers: [CheckEvaluator, GradingService, ReportService, RegradeService],
  exports: [CheckEvaluator, GradingService, ReportService],
})
export class GradingModule {}
