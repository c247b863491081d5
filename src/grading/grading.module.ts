import { Module } from '@nestjs/common';
import { SessionsModule } from '../sessions/sessions.module.js';
import { GradingProcessor } from './grading.processor.js';

@Module({ imports: [SessionsModule], providers: [GradingProcessor], exports: [GradingProcessor] })
export class GradingModule {}
