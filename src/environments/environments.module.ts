import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Module } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { ClusterModule } from '../cluster/cluster.module.js';
import { ClusterPoolService } from './cluster-pool.service.js';
import { DedicatedEnvironments } from './dedicated-environments.service.js';
import { CLUSTER_PROVIDER, type ClusterProvider } from './cluster-provider.js';
import { SandboxClusterProvider } from './sandbox-cluster.provider.js';

/**
 * The checkout the engine runs from (src/ or dist/src/ below it), whose
 * sandbox/ starts the sandbox provider's clusters.
 */
export function repositoryRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir))
    if (existsSync(join(dir, 'sandbox', 'cluster-daemon.ts'))) return dir;
  throw new Error(
    `no sandbox/cluster-daemon.ts above ${from}: the sandbox provider needs the repository`,
  );
}

/** The cluster provider the configuration names, or null for none (shared environments only). */
export function clusterProviderFor(config: AppConfig): ClusterProvider | null {
  const settings = config.environments;
  if (settings.provider === 'none') return null;
  return new SandboxClusterProvider({
    repoDir: repositoryRoot(),
    clustersDir: settings.sandboxClustersDir,
    clusterBytes: settings.clusterBytes,
    reserveBytes: settings.reserveBytes,
    startTimeoutMs: settings.startTimeoutMs,
    cpuShares: settings.cpuShares,
    userNamespaces: settings.sandboxUserNamespaces,
  });
}

/** Dedicated environments: the configured cluster provider and the pool of leased clusters. */
@Module({
  imports: [ClusterModule],
  providers: [
    {
      provide: CLUSTER_PROVIDER,
      inject: [APP_CONFIG],
      useFactory: clusterProviderFor,
    },
    ClusterPoolService,
    DedicatedEnvironments,
  ],
  exports: [ClusterPoolService, DedicatedEnvironments, CLUSTER_PROVIDER],
})
export class EnvironmentsModule {}
