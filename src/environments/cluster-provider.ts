/**
 * The adapter to whatever makes whole clusters for dedicated environments.
 * The engine leases a cluster of a given shape for a session, reaches it
 * with an admin kubeconfig and runs commands and shells on its nodes, and
 * gives it back when the session is over. Nothing here assumes where the
 * clusters live: the first implementation starts real-node sandbox clusters
 * on the engine's machine; another could hand out pre-built kubeadm clusters
 * reached over SSH (reset after use), or virtual clusters on a host cluster.
 *
 * The engine's database, not the provider, says which cluster belongs to
 * which session (see ClusterLease); a provider only has to start, find and
 * destroy clusters by the id it gave them.
 */
export const CLUSTER_PROVIDER = Symbol('CLUSTER_PROVIDER');

/** What an exam asks for: its nodes by name, the control plane first. */
export interface ClusterShape {
  nodes: string[];
}

/** The key a warm pool is kept under: clusters of one shape are interchangeable. */
export function shapeKey(shape: ClusterShape): string {
  return shape.nodes.join(',');
}

/** A cluster the provider made, as the engine keeps it (stored on the lease). */
export interface ProvidedCluster {
  /** The provider's id for it (stable across engine restarts). */
  id: string;
  /**
   * The engine's kubeconfig (an identity of its own with every right, so
   * that at the end it can freeze everyone else), its server reachable from
   * the engine.
   */
  kubeconfig: string;
  /** The candidate's: cluster-admin as another identity (kubeadm's admin.conf). */
  candidateKubeconfig: string;
  /** Its nodes, in the shape's order. */
  nodes: string[];
  /** Whatever the provider needs to find it again (stored as JSON with the lease). */
  handle: Record<string, unknown>;
  /**
   * Set when the cluster was made under settings this engine no longer uses
   * (say, nodes as the machine's root where it now isolates them): it keeps
   * serving a session that holds it, but is never handed out anew.
   */
  stale?: string;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  timeoutMs: number;
  stdin?: string;
}

/** How a node's root shell is reached from a candidate's terminal (see the terminal host). */
export interface NodeShellEndpoint {
  node: string;
  /** A Unix socket that gives a root shell on the node to whoever connects. */
  socket: string;
}

export interface ClusterProviderStatus {
  available: boolean;
  /** Why it cannot make clusters (missing kernel features, not root…), in one line. */
  reason?: string;
  /** Clusters it could hold at once on top of what it holds now (memory, a quota). */
  room: number;
}

export interface ClusterProvider {
  readonly name: string;
  status(): Promise<ClusterProviderStatus>;
  /**
   * Makes a cluster of this shape and resolves once every system pod is
   * Ready. Slow (tens of seconds): the pool calls it ahead of demand.
   */
  create(shape: ClusterShape, id: string): Promise<ProvidedCluster>;
  /** The cluster if it is still alive (after an engine restart), else undefined. */
  find(cluster: ProvidedCluster): Promise<ProvidedCluster | undefined>;
  /** Runs a command as root on a node, to completion. A node that cannot be reached rejects. */
  exec(
    cluster: ProvidedCluster,
    node: string,
    command: string[],
    options: ExecOptions,
  ): Promise<ExecResult>;
  /** Where each node's root shell is served, for the candidate's terminal. */
  nodeShells(cluster: ProvidedCluster): NodeShellEndpoint[];
  /** Destroys it for good (never reused: a candidate may have broken it). Idempotent. */
  destroy(cluster: ProvidedCluster): Promise<void>;
  /** Ids of every cluster it holds, so the engine can destroy those no lease knows. */
  list(): Promise<string[]>;
}
