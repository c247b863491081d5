import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { KubeConfig } from '@kubernetes/client-node';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig, ClusterTarget } from '../config/config.schema.js';
import { ClusterClient } from './cluster-client.js';

export type ClusterReachability =
  | { status: 'up'; server: string; version: string; latencyMs: number }
  | { status: 'down'; server?: string; error: string }
  | { status: 'not-configured'; error: string };

/**
 * The one adapter to Kubernetes (with ClusterClient, the only importers of
 * @kubernetes/client-node): a client per cluster alias.
 */
@Injectable()
export class ClusterService implements OnModuleDestroy {
  private readonly clients = new Map<string, ClusterClient | null>();
  /** Clients of clusters that are not configured but leased (dedicated environments), by lease id. */
  private readonly leased = new Map<string, ClusterClient>();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  onModuleDestroy(): void {
    for (const client of this.clients.values()) client?.close();
    for (const client of this.leased.values()) client.close();
  }

  /**
   * A client for a cluster known by its kubeconfig (a dedicated session's
   * leased cluster), kept under `key` until {@link forget}; `alias` names it
   * in errors and kubeconfigs.
   */
  forKubeconfig(key: string, alias: string, kubeconfig: string): ClusterClient {
    let client = this.leased.get(key);
    if (!client) {
      const kc = new KubeConfig();
      kc.loadFromString(kubeconfig);
      if (!kc.getCurrentCluster())
        throw new Error(`the kubeconfig of cluster ${alias} names no cluster`);
      client = new ClusterClient(alias, kc);
      this.leased.set(key, client);
    }
    return client;
  }

  /** Drops a leased cluster's client (the cluster is gone). */
  forget(key: string): void {
    this.leased.get(key)?.close();
    this.leased.delete(key);
  }

  aliases(): string[] {
    return this.config.clusters.map((c) => c.alias);
  }

  /** The client for an alias; throws if the alias is unknown or has no usable kubeconfig. */
  client(alias: string): ClusterClient {
    const target = this.config.clusters.find((c) => c.alias === alias);
    if (!target)
      throw new Error(`no cluster "${alias}" is configured (known: ${this.aliases().join(', ')})`);
    if (!this.clients.has(alias)) this.clients.set(alias, load(target));
    const client = this.clients.get(alias);
    if (!client)
      throw new Error(
        `cluster "${alias}" has no kubeconfig or current context (set KUBECONFIG or CLUSTERS)`,
      );
    return client;
  }

  async reachability(): Promise<Record<string, ClusterReachability>> {
    const entries = await Promise.all(
      this.aliases().map(async (alias): Promise<[string, ClusterReachability]> => {
        let client: ClusterClient;
        try {
          client = this.client(alias);
        } catch (error) {
          return [alias, { status: 'not-configured', error: (error as Error).message }];
        }
        const started = Date.now();
        try {
          const version = await client.version();
          return [
            alias,
            { status: 'up', server: client.server, version, latencyMs: Date.now() - started },
          ];
        } catch (error) {
          return [
            alias,
            { status: 'down', server: client.server, error: (error as Error).message },
          ];
        }
      }),
    );
    return Object.fromEntries(entries);
  }
}

function load(target: ClusterTarget): ClusterClient | null {
  const kc = new KubeConfig();
  const defaultFile = join(homedir(), '.kube', 'config');
  try {
    if (target.kubeconfig) kc.loadFromFile(target.kubeconfig);
    else if (existsSync(defaultFile)) kc.loadFromFile(defaultFile);
    else if (process.env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
    // client-node would otherwise invent http://localhost:8080.
    else return null;
    if (target.context) kc.setCurrentContext(target.context);
  } catch {
    return null;
  }
  return kc.getCurrentCluster() ? new ClusterClient(target.alias, kc) : null;
}
