import { Module } from '@nestjs/common';
import { QuestionBankModule } from '../question-bank/question-bank.module.js';
import { ExamsController } from './exams.controller.js';
import { ExamsService } from './exams.service.js';

@Module({
  imports: [QuestionBankModule],
  controllers: [ExamsController],
  providers: [ExamsService],
  exports: [ExamsService],
})
export class ExamsModule {}
