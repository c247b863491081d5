/**
 * Flow control for the terminal's output, after xterm.js's flow-control
 * guide: bytes handed to `term.write` are counted until its callback says
 * they were parsed. When the count passes the high mark the server is asked
 * to pause the shell; once the terminal has caught up below the low mark,
 * to resume. A command that floods the screen (`yes`, a large `cat`) then
 * waits for the browser instead of filling its memory.
 */
export const HIGH_WATER = 512 * 1024;
export const LOW_WATER = 128 * 1024;

export class WriteFlow {
  private pending = 0;
  private pausedNow = false;

  constructor(
    private readonly high = HIGH_WATER,
    private readonly low = LOW_WATER,
  ) {}

  /** Bytes handed to the terminal and not yet written. */
  get pendingBytes(): number {
    return this.pending;
  }

  /** Whether the server was asked to pause (and not yet to resume). */
  get paused(): boolean {
    return this.pausedNow;
  }

  /** `bytes` were handed to the terminal: 'pause' when the server must now stop. */
  queued(bytes: number): 'pause' | null {
    this.pending += bytes;
    if (this.pausedNow || this.pending <= this.high) return null;
    this.pausedNow = true;
    return 'pause';
  }

  /** The terminal wrote `bytes`: 'resume' when the server may go on. */
  written(bytes: number): 'resume' | null {
    this.pending = Math.max(0, this.pending - bytes);
    if (!this.pausedNow || this.pending >= this.low) return null;
    this.pausedNow = false;
    return 'resume';
  }
}
