import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthGuard } from './auth.guard.js';
import { Authenticator } from './authenticator.js';
import { SessionTokenCache } from './session-token-cache.js';

/**
 * Deny by default: every route needs @Public() or an @Allow() audience.
 * Global, so a session's token can be forgotten where it is replaced.
 */
@Global()
@Module({
  providers: [SessionTokenCache, Authenticator, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [SessionTokenCache, Authenticator],
})
export class AuthModule {}
