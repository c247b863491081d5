import { Agent, request } from 'node:https';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';

/** How long credentials read from the kubeconfig are reused (token files rotate). */
const AUTH_TTL_MS = 60_000;
/** A request that has not answered by then is abandoned and its socket closed. */
const REQUEST_TIMEOUT_MS = 10_000;

export interface RawResponse {
  status: number;
  body: string;
}

/**
 * Plain JSON requests to one cluster over kept-alive connections.
 * client-node builds a new connection pool for every call, so each of its
 * requests pays a TLS handshake; grading makes dozens of small reads per
 * exam and hundreds when many sessions end together, so its reads go here.
 */
export class KeepAliveHttp {
  private agent?: Agent | HttpAgent;
  private auth?: { headers: Record<string, string>; at: number };

  constructor(
    private readonly kc: KubeConfig,
    // Grading runs GRADING_CONCURRENCY sessions of GRADING_CHECK_CONCURRENCY checks at once.
    private readonly maxSockets = 64,
  ) {}

  /** One request; an expired credential (401) is read again from the kubeconfig once. */
  async send(method: 'GET' | 'POST', path: string, body?: unknown): Promise<RawResponse> {
    const response = await this.sendOnce(method, path, body);
    if (response.status !== 401) return response;
    this.auth = undefined;
    return this.sendOnce(method, path, body);
  }

  private async sendOnce(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ): Promise<RawResponse> {
    const cluster = this.kc.getCurrentCluster()!;
    if (cluster.proxyUrl)
      throw new Error(
        `proxy-url kubeconfigs are not supported for grading reads (${cluster.name})`,
      );
    const server = new URL(cluster.server);
    const headers = await this.headers();
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const secure = server.protocol === 'https:';
    const send = secure ? request : httpRequest;
    const basePath = server.pathname.replace(/\/$/, '');
    return new Promise((resolve, reject) => {
      const req = send(
        {
          method,
          // URL keeps IPv6 literals bracketed; the socket wants the bare address.
          host: server.hostname.replace(/^\[(.*)\]$/, '$1'),
          port: server.port || (secure ? 443 : 80),
          path: `${basePath}${path}`,
          agent: this.agent,
          headers: {
            ...headers,
            Accept: 'application/json',
            ...(payload
              ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) }
              : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', reject);
        },
      );
      req.setTimeout(REQUEST_TIMEOUT_MS, () =>
        req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)),
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /**
   * Auth headers (and, the first time, the TLS settings of the pool) from the
   * kubeconfig. Client certificates that rotate (exec plugins) are not picked
   * up until the process restarts; tokens are re-read every minute and on a 401.
   */
  private async headers(): Promise<Record<string, string>> {
    if (this.auth && Date.now() - this.auth.at < AUTH_TTL_MS) return this.auth.headers;
    const options: {
      headers?: Record<string, string>;
      ca?: Buffer | string;
      cert?: Buffer | string;
      key?: Buffer | string;
      pfx?: Buffer | string;
      passphrase?: string;
      servername?: string;
      rejectUnauthorized?: boolean;
      auth?: string;
    } = {};
    await this.kc.applyToHTTPSOptions(options);
    const headers = { ...options.headers };
    if (options.auth)
      headers.Authorization = `Basic ${Buffer.from(options.auth).toString('base64')}`;
    if (!this.agent) {
      const secure = this.kc.getCurrentCluster()!.server.startsWith('https:');
      this.agent = secure
        ? new Agent({
            keepAlive: true,
            maxSockets: this.maxSockets,
            ca: options.ca,
            cert: options.cert,
            key: options.key,
            pfx: options.pfx,
            passphrase: options.passphrase,
            servername: options.servername,
            rejectUnauthorized: options.rejectUnauthorized,
          })
        : new HttpAgent({ keepAlive: true, maxSockets: this.maxSockets });
    }
    this.auth = { headers, at: Date.now() };
    return headers;
  }

  close(): void {
    this.agent?.destroy();
  }
}
