import { rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { Component } from '../component.js';
import { CGROUP_CONTROLLERS, type NodeHost } from './node-host.js';

/** A daemon of a node, as a systemd unit describes it. */
export interface ServiceSpec {
  name: string;
  /** The command run inside the node. */
  command: string[];
  /** Environment (PATH and the like) for the command. */
  env?: Record<string, string>;
  /** Seconds between an exit and the next start, as systemd's RestartSec (kubelet's unit: 10). */
  restartSeconds: number;
}

export interface ServiceStatus {
  name: string;
  /** active: running; activating: waiting to be restarted; inactive: stopped by request; failed: never started. */
  state: 'active' | 'activating' | 'inactive';
  pid?: number;
  /** When the current process started (or the last one ended). */
  since: Date;
  /** How the last process ended, when one did. */
  lastExit?: string;
  restarts: number;
}

interface Unit {
  spec: ServiceSpec;
  component?: Component;
  wanted: boolean;
  since: Date;
  lastExit?: string;
  restarts: number;
  timer?: NodeJS.Timeout;
}

/**
 * What systemd is to a kubeadm node: it owns the node's kubelet and
 * containerd, restarts them when they exit (`Restart=always`, which kubeadm
 * relies on: the kubelet exits until `kubeadm init` has written its
 * configuration), and answers start, stop, restart, status and logs. The
 * launcher uses it now; node shells will reach it through `systemctl` and
 * `journalctl`. Logs append to `<logs>/<name>.log` on the host, which the
 * node sees read-only as `/var/log/cka/<name>.log`.
 */
export class NodeSupervisor {
  private readonly units = new Map<string, Unit>();
  private closed = false;

  constructor(private readonly host: NodeHost) {}

  define(spec: ServiceSpec): void {
    this.units.set(spec.name, { spec, wanted: false, since: new Date(), restarts: 0 });
  }

  logPath(name: string): string {
    return join(this.host.spec.logs, `${name}.log`);
  }

  /** Starts the service unless it runs (idempotent, like `systemctl start`). */
  start(name: string): void {
    const unit = this.unit(name);
    unit.wanted = true;
    if (unit.component && unit.component.exit === undefined) return;
    clearTimeout(unit.timer);
    this.launch(unit);
  }

  /** Stops the service and keeps it stopped (SIGTERM, then SIGKILL after the grace). */
  async stop(name: string): Promise<void> {
    const unit = this.unit(name);
    unit.wanted = false;
    clearTimeout(unit.timer);
    await unit.component?.stop(10_000);
    unit.since = new Date();
  }

  async restart(name: string): Promise<void> {
    await this.stop(name);
    this.start(name);
  }

  status(name: string): ServiceStatus {
    const unit = this.unit(name);
    const running = unit.component && unit.component.exit === undefined;
    return {
      name,
      state: running ? 'active' : unit.wanted ? 'activating' : 'inactive',
      pid: running ? unit.component!.pid : undefined,
      since: unit.since,
      lastExit: unit.lastExit,
      restarts: unit.restarts,
    };
  }

  /** The last lines the service wrote (`journalctl -u <name> -n <lines>`). */
  lastLines(name: string, lines = 30): string {
    return this.unit(name).component?.lastLines(lines) ?? '';
  }

  names(): string[] {
    return [...this.units.keys()];
  }

  /** Stops every service, last defined first (kubelet before containerd). */
  async close(): Promise<void> {
    this.closed = true;
    for (const name of [...this.units.keys()].reverse()) await this.stop(name);
  }

  private unit(name: string): Unit {
    const unit = this.units.get(name);
    if (!unit) throw new Error(`node ${this.host.spec.name} has no service ${name}`);
    return unit;
  }

  private launch(unit: Unit): void {
    const { spec } = unit;
    // Into the node's daemon cgroups first, then into its namespaces: whatever the
    // daemon starts (shims, containers) is found there even if we are killed.
    const cgroups = CGROUP_CONTROLLERS.map((c) =>
      join('/sys/fs/cgroup', c, this.host.spec.cgroupRoot, 'system', 'cgroup.procs'),
    );
    const env = Object.entries(spec.env ?? {}).map(([k, v]) => `${k}=${v}`);
    const script =
      `for f in ${cgroups.map((f) => `'${f}'`).join(' ')}; do [ -e "$f" ] && echo $$ > "$f"; done; ` +
      'exec "$@"';
    const component = new Component(
      spec.name,
      '/bin/sh',
      ['-c', script, 'sh', ...this.host.enter(), 'env', ...env, ...spec.command],
      this.logPath(spec.name),
      { append: true },
    );
    unit.component = component;
    unit.since = new Date();
    void component.whenExited().then(async (exit) => {
      unit.lastExit = exit;
      unit.since = new Date();
      if (!unit.wanted || this.closed || unit.component !== component) return;
      unit.restarts++;
      unit.timer = setTimeout(() => {
        if (unit.wanted && !this.closed && unit.component === component) this.launch(unit);
      }, spec.restartSeconds * 1000);
    });
  }

  /**
   * Answers `systemctl` inside the node over a unix socket: one line
   * `<verb> <unit>` in, the command's output and a last line `exit <code>`
   * out, with systemctl's exit codes (3: not active).
   */
  async serve(socketPath: string): Promise<Server> {
    await rm(socketPath, { force: true });
    // Half-open: systemctl (socat) closes its side after the request and waits for the
    // answer, which for stop or restart comes seconds later.
    const server = createServer({ allowHalfOpen: true }, (socket) => {
      let buffered = '';
      socket.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        if (!buffered.includes('\n')) {
          if (buffered.length > 4096) socket.destroy();
          return;
        }
        const [verb = '', unitName = ''] = buffered.split('\n')[0].trim().split(/\s+/);
        this.answer(verb, unitName.replace(/\.service$/, '')).then(
          ({ output, code }) =>
            socket.end(`${output}${output && !output.endsWith('\n') ? '\n' : ''}exit ${code}\n`),
          (error: unknown) => socket.end(`${(error as Error).message}\nexit 1\n`),
        );
      });
      socket.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, resolve);
    });
    server.unref();
    return server;
  }

  private async answer(verb: string, name: string): Promise<{ output: string; code: number }> {
    if (verb === 'daemon-reload') return { output: '', code: 0 };
    if (!this.units.has(name))
      return {
        output: `Unit ${name}.service could not be found.`,
        code: verb === 'status' ? 4 : 5,
      };
    switch (verb) {
      case 'start':
        this.start(name);
        return { output: '', code: 0 };
      case 'stop':
        await this.stop(name);
        return { output: '', code: 0 };
      case 'restart':
        await this.restart(name);
        return { output: '', code: 0 };
      case 'enable':
      case 'disable':
        return { output: '', code: 0 };
      case 'is-enabled':
        return { output: 'enabled', code: 0 };
      case 'is-active': {
        const { state } = this.status(name);
        return { output: state, code: state === 'active' ? 0 : 3 };
      }
      case 'status': {
        const status = this.status(name);
        const active =
          status.state === 'active'
            ? `active (running) since ${status.since.toUTCString()}`
            : status.state === 'activating'
              ? `activating (auto-restart) (Result: ${status.lastExit ?? 'exit-code'}) since ${status.since.toUTCString()}`
              : `inactive (dead) since ${status.since.toUTCString()}`;
        const lines = [
          `● ${name}.service`,
          `     Loaded: loaded (/usr/lib/systemd/system/${name}.service; enabled; preset: enabled)`,
          `     Active: ${active}`,
          ...(status.pid ? [`   Main PID: ${status.pid} (${name})`] : []),
          '',
          this.lastLines(name, 10),
        ];
        return { output: lines.join('\n'), code: status.state === 'active' ? 0 : 3 };
      }
      default:
        return {
          output: `systemctl: verb "${verb}" is not supported here (start, stop, restart, status, is-active, is-enabled, enable, daemon-reload)`,
          code: 1,
        };
    }
  }
}
