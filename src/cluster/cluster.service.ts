import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { KubeConfig, VersionApi } from '@kubernetes/client-node';
import { withTimeout } from '../common/with-timeout.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';

export type ClusterReachability =
  | { status: 'up'; server: string; version: string; latencyMs: number }
  | { status: 'down'; server?: string; error: string }
  | { status: 'not-configured'; error: string };

const PROBE_TIMEOUT_MS = 2000;

/**
 * The one adapter to Kubernetes (the only importer of @kubernetes/client-node).
 * For now it answers whether the configured cluster is reachable; provisioning
 * and grading add their operations here.
 */
@Injectable()
export class ClusterService {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  private kubeConfig(): KubeConfig | undefined {
    const kc = new KubeConfig();
    const defaultFile = join(homedir(), '.kube', 'config');
    try {
      if (this.config.cluster.kubeconfig) kc.loadFromFile(this.config.cluster.kubeconfig);
      else if (existsSync(defaultFile)) kc.loadFromFile(defaultFile);
      else if (process.env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
      // client-node would otherwise invent http://localhost:8080.
      else return undefined;
      if (this.config.cluster.context) kc.setCurrentContext(this.config.cluster.context);
    } catch {
      return undefined;
    }
    return kc.getCurrentCluster() ? kc : undefined;
  }

  async reachability(): Promise<ClusterReachability> {
    const kc = this.kubeConfig();
    if (!kc)
      return {
        status: 'not-configured',
        error: 'no kubeconfig or current context (set KUBECONFIG)',
      };
    const server = kc.getCurrentCluster()!.server;
    const started = Date.now();
    try {
      const version = await withTimeout(
        kc.makeApiClient(VersionApi).getCode(),
        PROBE_TIMEOUT_MS,
        'GET /version',
      );
      return { status: 'up', server, version: version.gitVersion, latencyMs: Date.now() - started };
    } catch (error) {
      return { status: 'down', server, error: (error as Error).message.split('\n')[0] };
    }
  }
}
