import {
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  SetMetadata,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { PUBLIC_KEY } from '../auth/principal.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { DomainError, ErrorCode } from '../errors/domain-error.js';
import { clientKeyOf } from './client-key.js';
import { RequestWindows } from './request-windows.js';

const EXTRA_WINDOW_KEY = 'throttle:extra-window';
type ExtraWindow = 'sessionStarts';

const SKIP_KEY = 'throttle:skip';
/**
 * Never counted: the liveness probe answers from memory, and a kubelet or load
 * balancer told 429 would take the engine for dead and restart it.
 */
export const SkipThrottle = () => SetMetadata(SKIP_KEY, true);

/** A public route that costs more than a read (a session start builds objects on a cluster): a tighter window too. */
export const ThrottleAlso = (window: ExtraWindow) => SetMetadata(EXTRA_WINDOW_KEY, window);

/**
 * Who requests are counted by: Express's `req.ip` (which follows
 * TRUST_PROXY), an IPv6 client by its /64 (see clientKeyOf).
 */
export function clientOf(request: Request): string {
  return clientKeyOf(request.ip ?? request.socket.remoteAddress ?? 'unknown');
}

/**
 * Counts requests to routes that need no token (@Public) per client, and
 * answers 429 with Retry-After past the window's limit. Routes behind a token
 * are not counted here: their caller is known and has been let in. The
 * counts live in this process (documented: per API process).
 */
@Injectable()
export class ThrottleGuard implements CanActivate {
  private readonly windows: Record<'publicRequests' | ExtraWindow, RequestWindows>;

  constructor(
    private readonly reflector: Reflector,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.windows = {
      publicRequests: new RequestWindows(config.limits.publicRequests),
      sessionStarts: new RequestWindows(config.limits.sessionStarts),
    };
  }

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (!this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    if (this.reflector.getAllAndOverride<boolean>(SKIP_KEY, targets)) return true;
    const client = clientOf(context.switchToHttp().getRequest<Request>());
    const extra = this.reflector.getAllAndOverride<ExtraWindow | undefined>(
      EXTRA_WINDOW_KEY,
      targets,
    );
    for (const name of ['publicRequests', ...(extra ? [extra] : [])] as const) {
      const verdict = this.windows[name].count(client);
      if (!verdict.allowed) {
        const retryAfterSeconds = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000));
        throw new DomainError(
          ErrorCode.TOO_MANY_REQUESTS,
          name === 'sessionStarts'
            ? `Too many sessions started from this address; try again in ${retryAfterSeconds} s`
            : `Too many requests from this address; try again in ${retryAfterSeconds} s`,
          { retryAfterSeconds },
        );
      }
    }
    return true;
  }
}
