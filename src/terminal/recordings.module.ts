import { Module } from '@nestjs/common';
import { RecordingsService } from './recordings.service.js';

/**
 * Terminal recordings on their own, without the shells: the staff report's
 * player reads them in any HTTP process, and a worker never starts a shell.
 */
@Module({ providers: [RecordingsService], exports: [RecordingsService] })
export class RecordingsModule {}
