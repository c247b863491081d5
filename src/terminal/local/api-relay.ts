import { chmod, chown, rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';

/** An API server's address, or a Unix socket (a node's shell, see ssh-client.ts). */
export type RelayTarget = { host: string; port: number } | { path: string };

/**
 * The jail's only way out: a Unix socket (bound into the jail, where a relay
 * listens on loopback) that the engine forwards, byte for byte, to one API
 * server. TLS passes through untouched: the engine sees no request and no
 * token. The jail has its own network namespace with nothing but loopback,
 * so Redis, the database, the engine's port and other sandboxes' etcd are out
 * of reach however the candidate tries; this socket reaches exactly one
 * address, chosen by the engine from the candidate's own kubeconfig.
 */
export class ApiRelay {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  private constructor(
    readonly path: string,
    readonly target: RelayTarget,
    private readonly maxConnections: number,
  ) {
    this.server = createServer((client) => this.relay(client));
  }

  /**
   * Listens on `path` (readable and writable by the jail's user: it connects
   * through it). With `owner`, that user alone may: a node's shell is a root
   * shell, so no other user of the host may connect to its relay.
   */
  static async listen(
    path: string,
    target: RelayTarget,
    options: { maxConnections?: number; owner?: { uid: number; gid: number } } = {},
  ): Promise<ApiRelay> {
    await rm(path, { force: true });
    const relay = new ApiRelay(path, target, options.maxConnections ?? 64);
    await new Promise<void>((resolve, reject) => {
      relay.server.once('error', reject);
      relay.server.listen(path, () => resolve());
    });
    if (options.owner) {
      await chown(path, options.owner.uid, options.owner.gid);
      await chmod(path, 0o600);
    } else await chmod(path, 0o666);
    return relay;
  }

  private relay(client: Socket): void {
    // kubectl opens a handful of connections; a candidate opening thousands
    // would only take the engine's file descriptors.
    if (this.sockets.size >= this.maxConnections * 2) {
      client.destroy();
      return;
    }
    const upstream =
      'path' in this.target
        ? connect(this.target.path)
        : connect(this.target.port, this.target.host);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.path, { force: true });
  }
}
