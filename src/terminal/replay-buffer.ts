/**
 * The last `capacity` bytes a shell printed, replayed to a connection that
 * takes the shell over (a reload, another tab), so the screen comes back with
 * what was on it. A ring of bytes, not of chunks: memory stays fixed whatever
 * the shell prints.
 */
export class ReplayBuffer {
  private readonly ring: Buffer;
  private start = 0;
  private length = 0;
  /** Whether older output was dropped (the replay then starts at a line boundary). */
  private wrapped = false;

  constructor(readonly capacity: number) {
    this.ring = Buffer.alloc(capacity);
  }

  append(chunk: Buffer): void {
    if (chunk.length >= this.capacity) {
      chunk.copy(this.ring, 0, chunk.length - this.capacity);
      this.start = 0;
      this.length = this.capacity;
      this.wrapped = true;
      return;
    }
    const end = (this.start + this.length) % this.capacity;
    const first = Math.min(chunk.length, this.capacity - end);
    chunk.copy(this.ring, end, 0, first);
    chunk.copy(this.ring, 0, first);
    const overflow = this.length + chunk.length - this.capacity;
    if (overflow > 0) {
      this.start = (this.start + overflow) % this.capacity;
      this.length = this.capacity;
      this.wrapped = true;
    } else {
      this.length += chunk.length;
    }
  }

  /**
   * The buffered output. When older output was dropped, what precedes the
   * first line break is cut too: it may be the tail of an escape sequence or
   * of a multi-byte character, which would print as garbage.
   */
  contents(): Buffer {
    const out = Buffer.alloc(this.length);
    const first = Math.min(this.length, this.capacity - this.start);
    this.ring.copy(out, 0, this.start, this.start + first);
    this.ring.copy(out, first, 0, this.length - first);
    if (!this.wrapped) return out;
    const newline = out.indexOf(0x0a);
    return newline < 0 ? Buffer.alloc(0) : out.subarray(newline + 1);
  }
}
