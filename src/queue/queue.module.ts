import { Global, Module } from '@nestjs/common';
import { QueueService } from './queue.service.js';

/** The producer side, for every module that enqueues work. */
@Global()
@Module({ providers: [QueueService], exports: [QueueService] })
export class QueueModule {}
