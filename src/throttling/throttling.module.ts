import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottleGuard } from './throttle.guard.js';

/** Per-client request windows on the routes anyone may call (see ThrottleGuard). */
@Module({ providers: [{ provide: APP_GUARD, useClass: ThrottleGuard }] })
export class ThrottlingModule {}
