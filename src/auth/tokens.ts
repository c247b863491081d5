import { createHash, randomBytes } from 'node:crypto';

/**
 * Bearer tokens carry their kind in a prefix, so the guard knows which table
 * to look in: `ckt_` staff API tokens, `cks_` candidate session tokens.
 */
export const TokenPrefix = { STAFF: 'ckt', SESSION: 'cks', INVITATION: 'cki' } as const;
export type TokenPrefix = (typeof TokenPrefix)[keyof typeof TokenPrefix];

export function generateToken(prefix: TokenPrefix): string {
  return `${prefix}_${randomBytes(24).toString('base64url')}`;
}

/** Tokens are stored only as SHA-256: a database leak does not leak credentials. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
