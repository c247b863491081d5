import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, createWriteStream, type WriteStream } from 'node:fs';

/**
 * setpriv (util-linux) asks the kernel to SIGKILL the child when its parent
 * dies, so a launcher killed with SIGKILL still leaves no orphans behind.
 */
const SETPRIV = '/usr/bin/setpriv';
const KEEP_LINES = 60;
/** How long an exit waits for the child's pipes to drain (see flushed()). */
const FLUSH_WAIT_MS = 1000;

export class ComponentExitedError extends Error {
  constructor(
    readonly component: string,
    readonly exit: string,
    readonly logTail: string,
    readonly logPath: string,
  ) {
    super(
      `${component} exited (${exit}) while the sandbox was starting; log: ${logPath}\n` +
        `--- last lines of ${component} ---\n${logTail}`,
    );
    this.name = 'ComponentExitedError';
  }
}

/** One control-plane program run as a child of the launcher. */
export class Component {
  private readonly child: ChildProcess;
  private readonly out: WriteStream;
  private readonly recent: string[] = [];
  private partial = '';
  private exitDescription: string | undefined;
  private readonly exited: Promise<string>;

  constructor(
    readonly name: string,
    binary: string,
    args: string[],
    readonly logPath: string,
    /** Append to the log (a supervised daemon's restarts keep one log, as a journal does). */
    options: { append?: boolean } = {},
  ) {
    this.out = createWriteStream(logPath, { flags: options.append ? 'a' : 'w' });
    // A full disk must not kill the launcher with an unhandled 'error': the
    // program goes on, its log loses lines, and its last lines say why.
    this.out.on('error', (error) =>
      this.remember(`log ${logPath} not written: ${error.message}\n`),
    );
    const [command, argv] = existsSync(SETPRIV)
      ? [SETPRIV, ['--pdeathsig', 'KILL', '--', binary, ...args]]
      : [binary, args];
    // detached: a terminal's Ctrl-C reaches only the launcher, which then stops
    // the components in order instead of all of them dying at once.
    this.child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.exited = new Promise((resolve) => {
      // A spawn that fails has 'error' and no 'exit'.
      this.child.on('error', (error) => {
        this.remember(`spawn failed: ${error.message}\n`);
        void this.closeLog().then(() => {
          this.exitDescription ??= `spawn error: ${error.message}`;
          resolve(this.exitDescription);
        });
      });
      this.child.on('exit', (code, signal) => {
        const description = signal ? `signal ${signal}` : `exit code ${code}`;
        // 'exit' can come before the pipes are drained. Whoever acts on the exit
        // (a supervisor's status, `journalctl` in a node) must find the program's
        // last words in the log, so the exit is reported once they are written.
        void this.flushed().then(async () => {
          // Closed now, not at stop(): a supervised daemon that crash-loops gets a
          // new Component (and log stream) per run, and would leak one file each.
          await this.closeLog();
          this.exitDescription ??= description;
          resolve(this.exitDescription);
        });
      });
    });
    // No pipes when the spawn failed early (EMFILE, say): 'error' reports it.
    for (const stream of [this.child.stdout, this.child.stderr]) {
      stream?.on('data', (chunk: Buffer) => {
        // A grandchild holding the pipes may still write after the log closed.
        if (!this.out.writableEnded) this.out.write(chunk);
        this.remember(chunk.toString('utf8'));
      });
    }
  }

  /**
   * The child's pipes drained and everything read written to the log. A
   * grandchild that inherited the pipes can hold them open for ever, so this
   * gives up after a moment rather than never report the exit.
   */
  private async flushed(): Promise<void> {
    const ended = (stream: (NodeJS.ReadableStream & { readableEnded?: boolean }) | null) =>
      !stream || stream.readableEnded
        ? Promise.resolve()
        : new Promise<void>((r) => stream.once('end', r));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([ended(this.child.stdout), ended(this.child.stderr)]),
      new Promise<void>((r) => (timer = setTimeout(r, FLUSH_WAIT_MS))),
    ]);
    clearTimeout(timer);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Undefined while running; otherwise how it ended. */
  get exit(): string | undefined {
    return this.exitDescription;
  }

  /** Resolves with the exit description when the process ends. */
  whenExited(): Promise<string> {
    return this.exited;
  }

  lastLines(count = 30): string {
    const lines = [...this.recent, ...(this.partial ? [this.partial] : [])];
    return lines.slice(-count).join('\n');
  }

  exitedError(): ComponentExitedError {
    return new ComponentExitedError(
      this.name,
      this.exit ?? 'unknown',
      this.lastLines(),
      this.logPath,
    );
  }

  /** SIGTERM, then SIGKILL if the process outlives the grace period. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.exitDescription === undefined && this.child.pid !== undefined) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    await this.closeLog();
  }

  private async closeLog(): Promise<void> {
    if (this.out.writableEnded) return;
    await new Promise((resolve) => this.out.end(resolve));
  }

  private remember(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    this.recent.push(...lines);
    if (this.recent.length > KEEP_LINES) this.recent.splice(0, this.recent.length - KEEP_LINES);
  }
}
