import { open } from 'node:fs/promises';

/** The last `lines` lines of a log file (reads at most the final 64 KiB). */
export async function tailOf(path: string, lines: number): Promise<string> {
  const handle = await open(path, 'r').catch(() => undefined);
  if (!handle) return `(no log at ${path})`;
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, 64 * 1024);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return buffer.toString('utf8').split('\n').filter(Boolean).slice(-lines).join('\n');
  } finally {
    await handle.close();
  }
}
