import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { StringDecoder } from 'node:string_decoder';

/** Output recorded at once, at most, then per second (see output()). */
const BURST = 1024 * 1024;
const RATE = 64 * 1024;

/**
 * A session's terminal as asciicast v2 (newline-delimited JSON: a header,
 * then `[seconds, "o", text]` output and `[seconds, "r", "COLSxROWS"]`
 * resize events), the format asciinema-player replays. One file per session:
 * a later shell of the same session appends to it, its times continuing
 * from the first. Output is decoded as a stream, so a character split across
 * two chunks is written whole. At `maxBytes` the recording stops with a
 * marker event and a visible line saying so.
 */
export class AsciicastRecorder {
  private readonly decoder = new StringDecoder('utf8');
  private out?: WriteStream;
  private bytes = 0;
  private cut = false;
  private startedAt = 0;
  private budget = BURST;
  private budgetAt = Date.now();
  private elided = 0;

  private constructor(
    readonly path: string,
    private readonly maxBytes: number,
  ) {}

  /** Opens (or continues) the session's recording. */
  static async open(
    path: string,
    size: { cols: number; rows: number },
    maxBytes: number,
    title: string,
  ): Promise<AsciicastRecorder> {
    const recorder = new AsciicastRecorder(path, maxBytes);
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const existing = await stat(path).catch(() => undefined);
    recorder.out = createWriteStream(path, { flags: 'a', mode: 0o600 });
    recorder.out.on('error', () => undefined);
    if (existing && existing.size > 0) {
      recorder.bytes = existing.size;
      recorder.startedAt = await headerTime(path);
      recorder.cut = recorder.bytes >= maxBytes;
      recorder.resize(size.cols, size.rows);
    } else {
      recorder.startedAt = Date.now();
      recorder.line(
        JSON.stringify({
          version: 2,
          width: size.cols,
          height: size.rows,
          timestamp: Math.floor(recorder.startedAt / 1000),
          title,
          env: { TERM: 'xterm-256color', SHELL: '/bin/bash' },
        }),
      );
    }
    return recorder;
  }

  /**
   * Output, within a budget: a burst of 1 MiB, then 64 KiB a second. A
   * flood (`yes`, a 40 MB `cat`) would otherwise fill the recording's cap in
   * a second and leave the rest of the exam unrecorded; instead the flood is
   * cut, with a line saying how much, and recording goes on.
   */
  output(chunk: Buffer): void {
    const text = this.decoder.write(chunk);
    if (!text) return;
    const now = Date.now();
    this.budget = Math.min(BURST, this.budget + ((now - this.budgetAt) / 1000) * RATE);
    this.budgetAt = now;
    if (this.budget < chunk.length) {
      this.elided += chunk.length;
      return;
    }
    this.budget -= chunk.length;
    if (this.elided) {
      const note = `${this.elided} bytes of output not recorded (a flood)`;
      this.elided = 0;
      this.event('m', note);
      this.event('o', `\r\n[${note}]\r\n`);
    }
    this.event('o', text);
  }

  resize(cols: number, rows: number): void {
    this.event('r', `${cols}x${rows}`);
  }

  /** A marker (asciicast v2 `m`), e.g. where a shell ended and why. */
  marker(label: string): void {
    this.event('m', label);
  }

  async close(): Promise<void> {
    const rest = this.decoder.end();
    if (rest) this.event('o', rest);
    const out = this.out;
    this.out = undefined;
    if (out) await new Promise<void>((resolve) => out.end(resolve));
  }

  private event(kind: 'o' | 'r' | 'm', data: string): void {
    if (this.cut || !this.out) return;
    const seconds = Math.max(0, (Date.now() - this.startedAt) / 1000);
    const line = JSON.stringify([Number(seconds.toFixed(3)), kind, data]);
    if (this.bytes + line.length + 1 > this.maxBytes - 200) {
      this.cut = true;
      const note = `recording stopped: it reached its size limit (${Math.round(this.maxBytes / 1024 / 1024)} MiB)`;
      this.line(JSON.stringify([Number(seconds.toFixed(3)), 'm', note]));
      this.line(JSON.stringify([Number(seconds.toFixed(3)), 'o', `\r\n[${note}]\r\n`]));
      return;
    }
    this.line(line);
  }

  private line(text: string): void {
    const data = `${text}\n`;
    this.bytes += Buffer.byteLength(data);
    this.out!.write(data);
  }
}

/** The start time (ms) of an existing recording, from its header. */
async function headerTime(path: string): Promise<number> {
  const lines = createInterface({ input: createReadStream(path, { end: 4096 }) });
  for await (const line of lines) {
    lines.close();
    try {
      const header = JSON.parse(line) as { timestamp?: number };
      if (typeof header.timestamp === 'number') return header.timestamp * 1000;
    } catch {
      break;
    }
  }
  return Date.now();
}
