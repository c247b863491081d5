import { execFile } from 'node:child_process';

export class HostCommandError extends Error {
  constructor(
    readonly command: string[],
    readonly output: string,
    readonly code: number | string | null,
  ) {
    super(
      `${command.join(' ')} failed (${code}): ${output.trim().split('\n').slice(-5).join(' | ')}`,
    );
    this.name = 'HostCommandError';
  }
}

/**
 * Runs one host command (ip, mount, iptables…) to completion; a non-zero exit
 * throws with the command and the end of its output, so a failed network or
 * mount step says which one.
 */
export function runCommand(
  command: string[],
  options: { timeoutMs?: number; input?: string } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command[0],
      command.slice(1),
      { timeout: options.timeoutMs ?? 30_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          const code = (error as NodeJS.ErrnoException & { code?: number | string }).code ?? null;
          reject(new HostCommandError(command, `${stdout}${stderr}`, code));
        } else resolve(stdout);
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Like {@link runCommand}, but a failure is only reported, for best-effort cleanup. */
export async function tryCommand(command: string[]): Promise<boolean> {
  try {
    await runCommand(command);
    return true;
  } catch {
    return false;
  }
}
