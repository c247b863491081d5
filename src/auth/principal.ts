import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import { DomainError, ErrorCode } from '../errors/domain-error.js';
import type { StaffRole } from './api-token.entity.js';

export type Principal =
  | { kind: 'staff'; role: StaffRole; tokenId: string; name: string }
  | { kind: 'candidate'; sessionId: string };

/** Who may call a route: staff roles and/or 'candidate'. Routes without it need @Public(). */
export type Audience = StaffRole | 'candidate';
export const AUDIENCE_KEY = 'audience';
export const Allow = (...audience: Audience[]) => SetMetadata(AUDIENCE_KEY, audience);
export const PUBLIC_KEY = 'public';
export const Public = () => SetMetadata(PUBLIC_KEY, true);

export interface AuthenticatedRequest {
  principal?: Principal;
}

/** The authenticated caller, set by the AuthGuard. */
export const CurrentPrincipal = createParamDecorator(
  (_: unknown, context: ExecutionContext): Principal | undefined =>
    context.switchToHttp().getRequest<AuthenticatedRequest>().principal,
);

/** The caller's own session id; only a candidate has one. */
export function ownSessionOf(principal: Principal): string {
  if (principal.kind !== 'candidate')
    throw new DomainError(ErrorCode.FORBIDDEN, 'Only a candidate has an own session');
  return principal.sessionId;
}
