import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Repository } from 'typeorm';
import { DomainError, ErrorCode } from '../errors/domain-error.js';
import { Session } from '../sessions/session.entity.js';
import { ApiToken } from './api-token.entity.js';
import {
  type Audience,
  AUDIENCE_KEY,
  type AuthenticatedRequest,
  type Principal,
  PUBLIC_KEY,
} from './principal.js';
import { hashToken, TokenPrefix } from './tokens.js';

const SESSION_TOKEN_CACHE_SIZE = 10_000;

/**
 * Global guard, deny by default: a route is reachable only if it is marked
 * @Public() or the bearer token belongs to one of its @Allow() audiences.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @InjectRepository(ApiToken) private readonly tokens: Repository<ApiToken>,
    @InjectRepository(Session) private readonly sessions: Repository<Session>,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context
      .switchToHttp()
      .getRequest<AuthenticatedRequest & { headers: Record<string, string | undefined> }>();
    const targets = [context.getHandler(), context.getClass()];
    const isPublic = this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets);
    const audience = this.reflector.getAllAndOverride<Audience[]>(AUDIENCE_KEY, targets) ?? [];

    const token = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    if (token) request.principal = await this.authenticate(token);
    if (isPublic) return true;
    if (!request.principal) {
      throw new DomainError(
        ErrorCode.UNAUTHENTICATED,
        'A bearer token is required (Authorization: Bearer <token>)',
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

  /**
   * A session's token never changes, so the mapping from its hash to the
   * session id can be kept: the candidate's frequent polls then cost no
   * lookup. Bounded; the oldest entries go first. (Staff tokens can be
   * revoked, so they are always looked up.)
   */
  private readonly sessionIdByTokenHash = new Map<string, string>();

  private remember(hash: string, sessionId: string): void {
    if (this.sessionIdByTokenHash.size >= SESSION_TOKEN_CACHE_SIZE) {
      this.sessionIdByTokenHash.delete(this.sessionIdByTokenHash.keys().next().value!);
    }
    this.sessionIdByTokenHash.set(hash, sessionId);
  }

  private async authenticate(token: string): Promise<Principal> {
    const hash = hashToken(token);
    if (token.startsWith(`${TokenPrefix.STAFF}_`)) {
      const found = await this.tokens.findOneBy({ tokenHash: hash, revokedAt: IsNull() });
      if (found) return { kind: 'staff', role: found.role, tokenId: found.id, name: found.name };
    } else if (token.startsWith(`${TokenPrefix.SESSION}_`)) {
      const cached = this.sessionIdByTokenHash.get(hash);
      if (cached) return { kind: 'candidate', sessionId: cached };
      const found = await this.sessions.findOne({
        where: { tokenHash: hash },
        select: { id: true },
      });
      if (found) {
        this.remember(hash, found.id);
        return { kind: 'candidate', sessionId: found.id };
      }
    }
    throw new DomainError(ErrorCode.UNAUTHENTICATED, 'The bearer token is not valid');
  }
}
