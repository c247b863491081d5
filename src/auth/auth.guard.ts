import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { Reflector } from '@nestjs/core';
import { DomainError, ErrorCode } from '../errors/domain-error.js';
import { Authenticator } from './authenticator.js';
import { type Audience, AUDIENCE_KEY, type AuthenticatedRequest, PUBLIC_KEY } from './principal.js';
import { readCookie, sameOriginWrite } from './session-cookie.js';

/**
 * Global guard, deny by default: a route is reachable only if it is marked
 * @Public() or the caller's token belongs to one of its @Allow() audiences.
 * The token is a bearer token (API clients) or the session cookie (the
 * browser console); a cookie-authenticated write must come from this origin.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: Authenticator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest & Request>();
    const targets = [context.getHandler(), context.getClass()];
    const isPublic = this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets);
    const audience = this.reflector.getAllAndOverride<Audience[]>(AUDIENCE_KEY, targets) ?? [];

    const token = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    if (token) request.principal = await this.authenticator.authenticate(token);
    else {
      const cookie = readCookie(request);
      // A stale cookie (left, replaced by a resume) is no identity, not an error:
      // the sign-in page must still load.
      if (cookie)
        request.principal = await this.authenticator.authenticate(cookie).catch(() => undefined);
      if (request.principal && !sameOriginWrite(request)) {
        throw new DomainError(
          ErrorCode.CROSS_ORIGIN_REFUSED,
          'A change made with the session cookie must come from a page of this site',
        );
      }
    }
    if (isPublic) return true;
    if (!request.principal) {
      throw new DomainError(
        ErrorCode.UNAUTHENTICATED,
        'Sign in first: a session cookie or a bearer token (Authorization: Bearer <token>) is required',
      );
    }
    const who = request.principal.kind === 'staff' ? request.principal.role : 'candidate';
    if (!audience.includes(who)) {
      throw new DomainError(ErrorCode.FORBIDDEN, `This operation is not open to a ${who}`, {
        allowed: audience,
      });
    }
    return true;
  }
}
