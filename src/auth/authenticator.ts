import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Repository } from 'typeorm';
import { DomainError, ErrorCode } from '../errors/domain-error.js';
import { Session } from '../sessions/session.entity.js';
import { ApiToken } from './api-token.entity.js';
import type { Principal } from './principal.js';
import { SessionTokenCache } from './session-token-cache.js';
import { hashToken, TokenPrefix } from './tokens.js';

/**
 * Who a token is: a staff member (by an unrevoked API token) or a candidate
 * (by their session's token). Shared by the HTTP guard and the terminal's
 * WebSocket handshake, which no guard sees.
 */
@Injectable()
export class Authenticator {
  constructor(
    @InjectRepository(ApiToken) private readonly tokens: Repository<ApiToken>,
    @InjectRepository(Session) private readonly sessions: Repository<Session>,
    private readonly sessionTokens: SessionTokenCache,
  ) {}

  async authenticate(token: string): Promise<Principal> {
    const hash = hashToken(token);
    if (token.startsWith(`${TokenPrefix.STAFF}_`)) {
      const found = await this.tokens.findOneBy({ tokenHash: hash, revokedAt: IsNull() });
      if (found) return { kind: 'staff', role: found.role, tokenId: found.id, name: found.name };
    } else if (token.startsWith(`${TokenPrefix.SESSION}_`)) {
      const cached = this.sessionTokens.get(hash);
      if (cached) return { kind: 'candidate', sessionId: cached };
      const found = await this.sessions.findOne({
        where: { tokenHash: hash },
        select: { id: true },
      });
      if (found) {
        this.sessionTokens.remember(hash, found.id);
        return { kind: 'candidate', sessionId: found.id };
      }
    }
    throw new DomainError(ErrorCode.UNAUTHENTICATED, 'The bearer token is not valid');
  }
}
