import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
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
