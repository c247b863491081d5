/**
 * The adapter to whatever runs candidates' shells. The engine's HTTP side only
 * ever talks to this interface, so the process that owns shells can later be
 * another machine (a shell host reached over the network, a pod per candidate)
 * without touching the WebSocket, replay or recording code. The first
 * implementation, {@link LocalTerminalHost}, runs bubblewrap jails on the
 * engine's own host.
 */
export const TERMINAL_HOST = Symbol('TERMINAL_HOST');

export interface ShellSpec {
  sessionId: string;
  /**
   * The candidate's kubeconfig as the engine hands it out. The host decides how
   * the shell reaches its API servers (the local host relays them into a jail
   * that has no other network) and rewrites the servers accordingly.
   */
  kubeconfig: string;
  cols: number;
  rows: number;
  /** The questions' files, written into a new home only (never over what the candidate changed). */
  files: HomeFile[];
  /**
   * A dedicated session's node shells, for `ssh <node>` in the shell: each a
   * Unix socket on this host that gives a root shell on that node.
   */
  nodeShells?: { cluster: string; node: string; socket: string }[];
}

/** A file for the candidate's home, at a path relative to it. */
export interface HomeFile {
  path: string;
  content: string;
  executable: boolean;
}

export interface ShellExit {
  /** The shell's exit code, when it ended by itself (`exit`, Ctrl+D). */
  code: number | null;
}

/** One running shell: a terminal's bytes in and out, and the means to end it. */
export interface Shell {
  /** The host's process id of the shell's outermost process (diagnostics only). */
  readonly pid: number;
  onData(listener: (chunk: Buffer) => void): void;
  onExit(listener: (exit: ShellExit) => void): void;
  write(data: Buffer): void;
  /** Bytes written but not yet taken by the terminal (a program that does not read fills it). */
  pendingInput(): number;
  resize(cols: number, rows: number): void;
  /** Stop reading the terminal's output (the browser is behind); the shell blocks on a full buffer. */
  pause(): void;
  resume(): void;
  /** Kills every process of the shell; resolves once none is left. */
  kill(): Promise<void>;
}

export interface TerminalHostStatus {
  available: boolean;
  /** Why the host cannot run shells (missing bubblewrap, no user namespaces…). */
  reason?: string;
}

export interface TerminalHost {
  /** Checks what the host needs and cleans up after an earlier run of this process. */
  start(): Promise<TerminalHostStatus>;
  open(spec: ShellSpec): Promise<Shell>;
  /** Process ids still running for a session's shells (empty once killed). */
  processes(sessionId: string): Promise<number[]>;
  /** Drops what a session keeps between shells (its home, its relays): the session is over. */
  release(sessionId: string): Promise<void>;
  /** Sessions the host keeps anything for (homes of earlier shells included). */
  retained(): Promise<string[]>;
  /** Kills every shell (the engine is stopping). */
  close(): Promise<void>;
}
