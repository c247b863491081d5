import { Injectable } from '@nestjs/common';

const MAX_ENTRIES = 10_000;
/**
 * How long a token's session id is trusted without asking the database. A
 * token replaced by a resume (another browser re-entering the invitation code)
 * stops working here at once, and in other API processes within this time.
 */
const TTL_MS = 10_000;

/**
 * Session token hash → session id, so the candidate's frequent requests cost
 * no lookup. Bounded (oldest first) and short-lived; forgotten at rotation.
 */
@Injectable()
export class SessionTokenCache {
  private readonly entries = new Map<string, { sessionId: string; until: number }>();

  get(hash: string): string | undefined {
    const entry = this.entries.get(hash);
    if (!entry) return undefined;
    if (entry.until <= Date.now()) {
      this.entries.delete(hash);
      return undefined;
    }
    return entry.sessionId;
  }

  remember(hash: string, sessionId: string): void {
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(hash, { sessionId, until: Date.now() + TTL_MS });
  }

  forget(hash: string): void {
    this.entries.delete(hash);
  }
}
