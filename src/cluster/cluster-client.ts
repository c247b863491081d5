import { readFileSync } from 'node:fs';
import {
  ApiException,
  CoreV1Api,
  dumpYaml,
  Exec,
  HttpMethod,
  KubeConfig,
  KubernetesObjectApi,
  type KubernetesObject,
  PatchStrategy,
  VersionApi,
} from '@kubernetes/client-node';
import { Writable } from 'node:stream';
import { parseAllDocuments } from 'yaml';
import { withTimeout } from '../common/with-timeout.js';
import { KeepAliveHttp } from './keep-alive-http.js';

/** A failed call to a cluster, with the API server's own message. */
export class ClusterError extends Error {
  constructor(
    readonly alias: string,
    readonly status: number | undefined,
    message: string,
  ) {
    super(`cluster ${alias}: ${message}`);
    this.name = 'ClusterError';
  }
}

/** Enough to name one object: what `kubectl get <kind> <name> -n <namespace>` needs. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export interface AccessQuestion {
  user: string;
  groups?: string[];
  verb: string;
  resource: string;
  group?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

const CALL_TIMEOUT_MS = 10_000;

/** One context of a kubeconfig: a cluster, a bearer token and a default namespace. */
export interface KubeconfigEntry {
  name: string;
  server: string;
  caData?: string;
  insecure?: boolean;
  token: string;
  namespace?: string;
}

/** A kubeconfig with one context per entry, named after it; the first is current. */
export function renderKubeconfig(entries: KubeconfigEntry[]): string {
  return dumpYaml({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: entries.map((e) => ({
      name: e.name,
      cluster: {
        server: e.server,
        ...(e.caData ? { 'certificate-authority-data': e.caData } : {}),
        ...(e.insecure ? { 'insecure-skip-tls-verify': true } : {}),
      },
    })),
    users: entries.map((e) => ({ name: `${e.name}-candidate`, user: { token: e.token } })),
    contexts: entries.map((e) => ({
      name: e.name,
      context: {
        cluster: e.name,
        user: `${e.name}-candidate`,
        ...(e.namespace ? { namespace: e.namespace } : {}),
      },
    })),
    'current-context': entries[0]?.name ?? '',
  });
}

/**
 * client-node serialises request bodies through its typed models, and its
 * model of LimitRange items drops `default` (the container limits) on the way:
 * a LimitRange applied through it silently loses its default limits. So
 * server-side apply sends the object's own JSON, unchanged.
 */
class RawObjectApi extends KubernetesObjectApi {
  static forConfig(kc: KubeConfig): RawObjectApi {
    const api = kc.makeApiClient(RawObjectApi);
    api.setDefaultNamespace(kc);
    return api;
  }

  async apply<T extends KubernetesObject>(
    object: T,
    fieldManager: string,
    dryRun = false,
  ): Promise<T> {
    const context = this.configuration.baseServer.makeRequestContext(
      await this.specUriPath(object, 'patch'),
      HttpMethod.PATCH,
    );
    context.setHeaderParam('Accept', 'application/json');
    context.setHeaderParam('Content-Type', PatchStrategy.ServerSideApply);
    context.setQueryParam('fieldManager', fieldManager);
    context.setQueryParam('force', 'true');
    if (dryRun) context.setQueryParam('dryRun', 'All');
    // JSON is YAML, so the apply-patch+yaml content type takes it as it is.
    context.setBody(JSON.stringify(object));
    return this.requestPromise<T>(context);
  }

  /** The REST path of an object or list (discovery is cached per client). */
  uriPath(spec: KubernetesObject, action: 'read' | 'list'): Promise<string> {
    return this.specUriPath(spec, action);
  }
}

/** Parses (rendered) YAML that may hold several documents; empty documents are dropped. */
export function parseManifests(text: string): KubernetesObject[] {
  return parseAllDocuments(text)
    .map((doc, index) => {
      if (doc.errors.length)
        throw new Error(`manifest ${index + 1}: ${doc.errors[0].message.split('\n')[0]}`);
      return doc.toJS() as KubernetesObject | null;
    })
    .filter((object): object is KubernetesObject => object != null);
}

/**
 * The operations the engine needs on one cluster (one kubeconfig context),
 * each bounded in time and failing with the API server's message.
 */
export class ClusterClient {
  private readonly objects: RawObjectApi;
  private readonly http: KeepAliveHttp;

  constructor(
    readonly alias: string,
    private readonly kc: KubeConfig,
  ) {
    this.objects = RawObjectApi.forConfig(kc);
    this.http = new KeepAliveHttp(kc);
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.http.close();
  }

  get server(): string {
    return this.kc.getCurrentCluster()!.server;
  }

  async version(): Promise<string> {
    return (await this.call('GET /version', this.kc.makeApiClient(VersionApi).getCode()))
      .gitVersion;
  }

  /**
   * Server-side apply, in order, as `fieldManager`; `force` takes over fields
   * another manager set (our own objects are ours to reset).
   */
  async apply(objects: KubernetesObject[], fieldManager: string): Promise<KubernetesObject[]> {
    const applied: KubernetesObject[] = [];
    for (const object of objects) {
      const what = `apply ${object.kind} ${object.metadata?.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata?.name}`;
      applied.push(await this.call(what, this.objects.apply(object, fieldManager)));
    }
    return applied;
  }

  /** The object, or undefined if it does not exist. */
  async read<T extends KubernetesObject>(ref: ObjectRef): Promise<T | undefined> {
    try {
      return await this.call(`read ${describe(ref)}`, this.objects.read<T>(header(ref)));
    } catch (error) {
      if (error instanceof ClusterError && error.status === 404) return undefined;
      throw error;
    }
  }

  /**
   * The object exactly as the API server returns it (JSON), or undefined if
   * it does not exist. The typed models behind {@link read} turn timestamps
   * into Dates, drop fields they do not know and make class instances; a
   * grader must see what `kubectl get -o json` shows.
   */
  async readJson<T>(ref: ObjectRef): Promise<T | undefined> {
    try {
      return await this.json<T>(`read ${describe(ref)}`, 'GET', async () =>
        this.objects.uriPath(header(ref), 'read'),
      );
    } catch (error) {
      if (error instanceof ClusterError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** The items of a list exactly as the API server returns them (JSON). */
  async listJson<T>(
    apiVersion: string,
    kind: string,
    options: { namespace?: string; labelSelector?: string } = {},
  ): Promise<T[]> {
    const list = await this.json<{ items?: T[] }>(
      `list ${kind}${options.namespace ? ` in ${options.namespace}` : ''}`,
      'GET',
      async () => {
        const path = await this.objects.uriPath(
          { apiVersion, kind, metadata: { namespace: options.namespace } },
          'list',
        );
        return options.labelSelector
          ? `${path}?labelSelector=${encodeURIComponent(options.labelSelector)}`
          : path;
      },
    );
    return list.items ?? [];
  }

  async list<T extends KubernetesObject>(
    apiVersion: string,
    kind: string,
    options: { namespace?: string; labelSelector?: string } = {},
  ): Promise<T[]> {
    const list = await this.call(
      `list ${kind}`,
      this.objects.list<T>(
        apiVersion,
        kind,
        options.namespace,
        undefined,
        undefined,
        undefined,
        undefined,
        options.labelSelector,
      ),
    );
    return list.items;
  }

  /**
   * Polls until the object reports status condition `condition` as True;
   * fails after `timeoutMs` saying what it last saw.
   */
  async waitForCondition(ref: ObjectRef, condition: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = 'not found';
    for (;;) {
      const object = await this.read<
        KubernetesObject & {
          status?: { conditions?: { type: string; status: string; message?: string }[] };
        }
      >(ref);
      const found = object?.status?.conditions?.find((c) => c.type === condition);
      if (found?.status === 'True') return;
      if (object)
        last = found
          ? `${condition}=${found.status}${found.message ? ` (${found.message})` : ''}`
          : `no ${condition} condition yet`;
      if (Date.now() > deadline) {
        throw new ClusterError(
          this.alias,
          undefined,
          `waiting for ${describe(ref)} to be ${condition} timed out after ${timeoutMs / 1000} s; last: ${last}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** The same cluster, authenticated as whoever holds `token`. */
  withToken(token: string): ClusterClient {
    const cluster = this.kc.getCurrentCluster()!;
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [cluster],
      users: [{ name: 'token', token }],
      contexts: [{ name: 'token', cluster: cluster.name, user: 'token' }],
      currentContext: 'token',
    });
    return new ClusterClient(this.alias, kc);
  }

  /** A server-side dry-run apply (a create for a new object): admission runs, nothing is stored. */
  async dryRunCreate(object: KubernetesObject): Promise<void> {
    await this.call(
      `dry-run create ${object.kind} ${object.metadata?.name}`,
      this.objects.apply(object, 'cka-exam-engine-probe', true),
    );
  }

  /** Deletes the object; false if it was not there. */
  async delete(ref: ObjectRef, options: { gracePeriodSeconds?: number } = {}): Promise<boolean> {
    try {
      await this.call(
        `delete ${describe(ref)}`,
        this.objects.delete(
          header(ref),
          undefined,
          undefined,
          options.gracePeriodSeconds,
          undefined,
          'Background',
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ClusterError && error.status === 404) return false;
      throw error;
    }
  }

  /** A bound token for a ServiceAccount (TokenRequest API), valid for `seconds`. */
  async requestToken(
    namespace: string,
    serviceAccount: string,
    seconds: number,
  ): Promise<{ token: string; expiresAt: Date }> {
    const response = await this.call(
      `TokenRequest for ${namespace}/${serviceAccount}`,
      this.kc.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
        name: serviceAccount,
        namespace,
        body: { spec: { audiences: [], expirationSeconds: seconds } },
      }),
    );
    const { token, expirationTimestamp } = response.status ?? {};
    if (!token || !expirationTimestamp)
      throw new ClusterError(
        this.alias,
        undefined,
        `TokenRequest for ${namespace}/${serviceAccount} returned no token`,
      );
    return { token, expiresAt: new Date(expirationTimestamp) };
  }

  /** SubjectAccessReview: would this user (with these groups) be allowed? */
  async review(question: AccessQuestion): Promise<{ allowed: boolean; reason: string }> {
    const { user, groups, ...attributes } = question;
    const result = await this.json<{ status?: { allowed?: boolean; reason?: string } }>(
      `SubjectAccessReview for ${user}`,
      'POST',
      async () => '/apis/authorization.k8s.io/v1/subjectaccessreviews',
      {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: { user, groups, resourceAttributes: attributes },
      },
    );
    return { allowed: result.status?.allowed ?? false, reason: result.status?.reason ?? '' };
  }

  /** The username this client authenticates as (SelfSubjectReview). */
  async whoAmI(): Promise<string> {
    const result = await this.json<{ status?: { userInfo?: { username?: string } } }>(
      'SelfSubjectReview',
      'POST',
      async () => '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
    );
    const username = result.status?.userInfo?.username;
    if (!username)
      throw new ClusterError(this.alias, undefined, 'SelfSubjectReview returned no username');
    return username;
  }

  /** A kubeconfig for this cluster that authenticates with `token`. */
  kubeconfigFor(token: string, context: { name: string; namespace?: string }): string {
    return renderKubeconfig([this.kubeconfigEntry(token, context)]);
  }

  /** This cluster as one context of a candidate's kubeconfig. */
  kubeconfigEntry(token: string, context: { name: string; namespace?: string }): KubeconfigEntry {
    const cluster = this.kc.getCurrentCluster()!;
    return {
      name: context.name,
      server: cluster.server,
      caData:
        cluster.caData ??
        (cluster.caFile ? readFileSync(cluster.caFile).toString('base64') : undefined),
      insecure: cluster.skipTLSVerify || undefined,
      token,
      namespace: context.namespace,
    };
  }

  /**
   * A container's log (its last `limitBytes`), or why there is none: the pod
   * or container does not exist, or has no previous run (HTTP 400 or 404).
   */
  async podLog(
    namespace: string,
    name: string,
    options: { container?: string; previous?: boolean; limitBytes?: number } = {},
  ): Promise<{ log: string } | { missing: string }> {
    const query = new URLSearchParams();
    if (options.container) query.set('container', options.container);
    if (options.previous) query.set('previous', 'true');
    query.set('limitBytes', String(options.limitBytes ?? 1024 * 1024));
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}/log?${query}`;
    const what = `read the log of pod ${namespace}/${name}`;
    return this.call(
      what,
      (async () => {
        const response = await this.http.send('GET', path);
        if (response.status === 400 || response.status === 404)
          return { missing: statusMessage(response.body, response.status) };
        if (response.status < 200 || response.status > 299)
          throw new ClusterError(
            this.alias,
            response.status,
            `${what}: ${statusMessage(response.body, response.status)}`,
          );
        return { log: response.body };
      })(),
    );
  }

  /**
   * Runs a command in a running container (the pods/exec subresource) to
   * completion or `timeoutMs`: its exit code (from the API server's final
   * status; -1 when the time ran out) and output. A pod or container that
   * cannot be exec'd into (absent, not running, no such program) is a
   * ClusterError with the API server's or runtime's words.
   */
  async podExec(
    namespace: string,
    pod: string,
    container: string,
    command: string[],
    timeoutMs: number,
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    const what = `exec in pod ${namespace}/${pod}`;
    let stdout = '';
    let stderr = '';
    const sink = (append: (text: string) => void) =>
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          append(chunk.toString());
          done();
        },
      });
    return new Promise((resolve, reject) => {
      let settled = false;
      let socket: { close(): void } | undefined;
      const finish = (result: { code: number } | { error: string; status?: number }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket?.close();
        if ('error' in result)
          reject(new ClusterError(this.alias, result.status, `${what}: ${result.error}`));
        else resolve({ code: result.code, stdout, stderr });
      };
      const timer = setTimeout(() => finish({ code: -1 }), timeoutMs);
      new Exec(this.kc)
        .exec(
          namespace,
          pod,
          container,
          command,
          sink((t) => (stdout += t)),
          sink((t) => (stderr += t)),
          null,
          false,
          (status) => {
            if (status.status === 'Success') return finish({ code: 0 });
            const exit = status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message;
            if (status.reason === 'NonZeroExitCode' && exit !== undefined)
              return finish({ code: Number(exit) });
            finish({ error: status.message ?? 'the command could not run' });
          },
        )
        .then(
          (ws) => {
            socket = ws;
            if (settled) ws.close();
            // The status frame comes before the close; a close without one is a broken exec.
            ws.on('close', () =>
              setTimeout(
                () => finish({ error: 'the connection closed before the exit status came' }),
                50,
              ).unref(),
            );
          },
          (error: Error & { statusCode?: number }) =>
            finish({ error: error.message, status: error.statusCode }),
        );
    });
  }

  /** A JSON request over the kept-alive pool; a non-2xx answer is a ClusterError with its status. */
  private json<T>(
    what: string,
    method: 'GET' | 'POST',
    path: () => Promise<string>,
    body?: unknown,
  ): Promise<T> {
    return this.call(
      what,
      (async () => {
        const response = await this.http.send(method, await path(), body);
        if (response.status < 200 || response.status > 299)
          throw new ClusterError(
            this.alias,
            response.status,
            `${what}: ${statusMessage(response.body, response.status)}`,
          );
        return JSON.parse(response.body) as T;
      })(),
    );
  }

  private async call<T>(what: string, request: Promise<T>): Promise<T> {
    try {
      return await withTimeout(request, CALL_TIMEOUT_MS, what);
    } catch (error) {
      if (error instanceof ClusterError) throw error;
      if (error instanceof ApiException) {
        throw new ClusterError(
          this.alias,
          error.code,
          `${what}: ${statusMessage(error.body, error.code)}`,
        );
      }
      throw new ClusterError(
        this.alias,
        undefined,
        `${what}: ${(error as Error).message.split('\n')[0]}`,
      );
    }
  }
}

function header(ref: ObjectRef): KubernetesObject & { metadata: { name: string } } {
  return {
    apiVersion: ref.apiVersion,
    kind: ref.kind,
    metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
  };
}

function describe(ref: ObjectRef): string {
  return `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
}

/** The Status message the API server sent, e.g. `namespaces "x" not found`. */
function statusMessage(body: unknown, status: number): string {
  if (typeof body === 'string') {
    try {
      return (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {
      return body.slice(0, 200) || `HTTP ${status}`;
    }
  }
  return (body as { message?: string } | undefined)?.message ?? `HTTP ${status}`;
}
