/** What a wait needs to know of the processes it depends on. */
export interface Watched {
  readonly exit: string | undefined;
  exitedError(): Error;
}

export class WaitTimeoutError extends Error {
  constructor(what: string, timeoutMs: number, last: string) {
    super(`timed out after ${timeoutMs / 1000} s waiting for ${what}; last: ${last}`);
    this.name = 'WaitTimeoutError';
  }
}

/**
 * Polls `check` until it returns true. A string result is the latest reason it
 * is not done yet, quoted in the timeout error, so that a start that gives up
 * says what it was waiting for. Fails at once if a watched process exits.
 */
export async function waitFor(
  what: string,
  timeoutMs: number,
  watched: readonly Watched[],
  check: () => Promise<true | string>,
  intervalMs = 150,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    // A start that failed elsewhere stops its background waits.
    signal?.throwIfAborted();
    const dead = watched.find((w) => w.exit !== undefined);
    if (dead) throw dead.exitedError();
    try {
      const result = await check();
      if (result === true) return;
      last = result;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() > deadline) throw new WaitTimeoutError(what, timeoutMs, last);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
