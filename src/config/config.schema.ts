import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const url = (protocols: string[]) =>
  z
    .string()
    .url()
    .refine((value) => protocols.some((p) => value.startsWith(`${p}://`)), {
      message: `must start with ${protocols.map((p) => `${p}://`).join(' or ')}`,
    });

/** `<limit>/<seconds>`: at most `limit` requests in each window of `seconds`. */
const throttle = z
  .string()
  .regex(/^\d{1,7}\/\d{1,6}$/, '<limit>/<seconds>, e.g. 120/60')
  .transform((v) => {
    const [limit, seconds] = v.split('/').map(Number);
    return { limit, windowMs: seconds * 1000 };
  })
  .refine((v) => v.windowMs > 0, 'the window must be at least one second');

/**
 * Every setting the engine reads from the environment, with its default. This
 * is the only place that reads process.env (besides the .env loader).
 */
export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: int(0, 65535).default(3000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * Which proxies to believe about the client's address (X-Forwarded-For), as
   * Express's `trust proxy`: `false` (the socket's peer is the client), `true`,
   * a hop count, or comma-separated addresses/subnets (`loopback`, `10.0.0.0/8`).
   */
  TRUST_PROXY: z
    .string()
    .regex(/^(true|false|\d{1,2}|[A-Za-z0-9.:/,\s-]+)$/, 'true, false, a hop count or addresses')
    .default('false'),

  /** The session cookie's Secure flag: auto (when the request came over TLS, as TRUST_PROXY tells), true or false. */
  COOKIE_SECURE: z.enum(['auto', 'true', 'false']).default('auto'),

  /** Requests per client to routes that need no token: `<limit>/<seconds>` (0/… turns it off). */
  THROTTLE_PUBLIC: throttle.prefault('120/60'),
  /** Session starts per client, within THROTTLE_PUBLIC: each builds namespaces and pods on a cluster. */
  THROTTLE_SESSION_START: throttle.prefault('5/600'),
  /** Sessions provisioning or running at once, for everyone (0: no cap); more get a 503. */
  MAX_ACTIVE_SESSIONS: int(0, 100_000).default(100),
  /** Open-exam sessions provisioning or running at once per client (0: no cap); more get a 429. */
  MAX_ACTIVE_SESSIONS_PER_CLIENT: int(0, 10_000).default(2),

  DATABASE_URL: url(['postgres', 'postgresql']).optional(),
  SQLITE_PATH: z.string().min(1).default('data/engine.sqlite'),
  DB_MIGRATIONS_RUN: bool.default(true),

  REDIS_URL: url(['redis', 'rediss']).default('redis://127.0.0.1:6379'),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[a-z0-9-]+$/, 'lower-case letters, digits and dashes only')
    .default('cka'),
  WORKER_ENABLED: bool.default(true),
  WORKER_CONCURRENCY: int(1, 64).default(4),
  JOB_ATTEMPTS: int(1, 50).default(5),
  JOB_BACKOFF_MS: int(10, 600_000).default(1000),
  RECONCILE_INTERVAL_MS: int(1000, 3_600_000).default(30_000),

  /** Sessions one worker grades at the same time (the grading queue's concurrency). */
  GRADING_CONCURRENCY: int(1, 64).default(4),
  /** Checks one grading run evaluates at the same time. */
  GRADING_CHECK_CONCURRENCY: int(1, 256).default(16),

  /** The built console (npm run build puts it in dist/web); not there: the API alone is served. */
  WEB_ROOT: z.string().min(1).default('dist/web'),
  QUESTIONS_DIR: z.string().min(1).default('questions'),
  GRADERS_DIR: z.string().min(1).default('graders'),

  KUBECONFIG: z.string().optional(),
  KUBE_CONTEXT: z.string().optional(),
  /** The engine's own namespace on every cluster (candidates' ServiceAccounts live there). */
  ENGINE_NAMESPACE: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'a DNS label')
    .default('cka-engine'),
  /** Candidate tokens stay valid this long after the deadline (revocation ends them sooner). */
  TOKEN_GRACE_SECONDS: int(0, 86_400).default(300),
  /** How long a candidate may read the briefing before pressing Begin; then the session is abandoned. */
  READY_TIMEOUT_SECONDS: int(5, 7 * 86_400).default(1800),
  /** How long a graded session's cluster objects are kept for review before teardown. */
  TEARDOWN_AFTER_SECONDS: int(0, 30 * 86_400).default(3600),
  /** How often labelled leftovers of unknown or long-ended sessions are swept. */
  SWEEP_INTERVAL_MS: int(10_000, 86_400_000).default(600_000),
  /**
   * Where a candidate's hostPath PersistentVolumes may point on a node
   * (comma-separated absolute directories); anything else (`/`, `/etc`, `..`) is refused.
   */
  HOSTPATH_ROOTS: z
    .string()
    .regex(
      /^\/[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*(,\/[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*)*$/,
      'absolute directories other than /, comma-separated',
    )
    .refine((v) => !v.split(/[,/]/).includes('..'), 'no ".." segments')
    .default('/mnt,/srv,/data'),
  /** More clusters by alias: `alias=/path/to/kubeconfig#context,…` (the context is optional). */
  CLUSTERS: z
    .string()
    .regex(
      /^[a-z0-9-]+=[^,#]+(#[^,]+)?(,[a-z0-9-]+=[^,#]+(#[^,]+)?)*$/,
      'alias=/path/to/kubeconfig#context, comma-separated (aliases: lower-case letters, digits, dashes)',
    )
    .optional(),

  /**
   * The browser terminal: a jailed shell per candidate (bubblewrap). auto: on
   * when bwrap is installed and user namespaces work, else off (the console
   * offers the kubeconfig instead); true: refuse to start without it.
   */
  TERMINAL_ENABLED: z.enum(['auto', 'true', 'false']).default('auto'),
  /** How long a shell outlives its dropped connection before it is killed. */
  TERMINAL_GRACE_SECONDS: int(0, 86_400).default(600),
  /** Processes (and threads) one shell may run at once. */
  TERMINAL_PIDS_MAX: int(16, 65_536).default(256),
  /** Memory (MiB) of one shell's processes, its /tmp and home included. */
  TERMINAL_MEMORY_MB: int(32, 65_536).default(512),
  /** CPU weight of one shell (cgroup cpu.shares; the engine's own is 1024). */
  TERMINAL_CPU_SHARES: int(2, 262_144).default(256),
  /** Size (MiB) of the candidate's home and of its /tmp, each. */
  TERMINAL_HOME_MB: int(1, 65_536).default(64),
  /** The kubectl the shell runs (bound read-only into the jail) and setup steps run; unset: the first on PATH. */
  TERMINAL_KUBECTL: z.string().min(1).optional(),
  /** The helm the shell runs (bound read-only next to kubectl); unset: no helm in the shell. */
  TERMINAL_HELM: z.string().min(1).optional(),
  /** More read-only binds into the jail: `/host/path[:/jail/path],…`. */
  TERMINAL_EXTRA_BINDS: z
    .string()
    .regex(
      /^\/[^,:]*(:\/[^,:]*)?(,\/[^,:]*(:\/[^,:]*)?)*$/,
      '/host/path[:/jail/path], comma-separated',
    )
    .optional(),
  /** The host name in the shell's prompt. */
  TERMINAL_HOSTNAME: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'a DNS label')
    .default('cka-exam'),
  /** Where the jails' homes, sockets and cgroup names live on the host (unset: /run/cka-terminal as root, else under the temp dir). */
  TERMINAL_RUN_DIR: z.string().min(1).optional(),
  /** Recordings (asciicast v2), one per session, kept with its report. */
  TERMINAL_RECORDINGS_DIR: z.string().min(1).default('data/recordings'),
  /** A recording stops growing here (MiB), with a marker saying so. */
  TERMINAL_RECORDING_MAX_MB: int(1, 4096).default(32),
  /** Recent output (KiB) replayed to a new connection that takes the shell over. */
  TERMINAL_REPLAY_KB: int(4, 16_384).default(256),
  /** Outer user ids of the shells: each session gets one in [base, base + 1,000,000). */
  TERMINAL_UID_BASE: int(1000, 4_000_000_000).default(1_000_000),

  /**
   * Who makes dedicated exams' clusters: none (dedicated exams cannot start),
   * or sandbox (real-node sandbox clusters on this machine, started from this
   * checkout's sandbox/; needs root and cgroup v1).
   */
  CLUSTER_PROVIDER: z.enum(['none', 'sandbox']).default('none'),
  /** Ready clusters kept waiting for each shape the bank's dedicated exams use. */
  POOL_SIZE: int(0, 64).default(1),
  /** Where the sandbox provider keeps each cluster's state folder (unset: /var/lib/cka-clusters as root). */
  SANDBOX_CLUSTERS_DIR: z.string().min(1).optional(),
  /** What one idle dedicated cluster costs (MiB), to tell how many more fit in free memory. */
  CLUSTER_MEMORY_MB: int(256, 65_536).default(1300),
  /** Memory (MiB) kept free for the engine and the rest of the machine. */
  CLUSTER_MEMORY_RESERVE_MB: int(0, 1_048_576).default(2048),
  /** At most this many clusters at once (warm, starting or leased) whatever the free memory; 0: no cap. */
  CLUSTER_MAX: int(0, 10_000).default(0),
  /** The longest a dedicated cluster may take to start. */
  CLUSTER_START_TIMEOUT_SECONDS: int(30, 3600).default(300),
  /**
   * The dedicated clusters' CPU weight, all together (cgroup v1 cpu.shares of
   * their parent group; a busy process's is 1024): low, so clusters yield the
   * CPU to the engine's API when both want it.
   */
  CLUSTER_CPU_SHARES: int(2, 262_144).default(256),
  /**
   * The sandbox provider's nodes each run in a user namespace whose root is
   * an unprivileged range of this machine's ids, so that a cluster-admin
   * (privileged pods, hostPath, static pods, the node shell) stays inside
   * the cluster. false: the nodes run as this machine's root, and reach it.
   */
  SANDBOX_USER_NAMESPACES: bool.default(true),
  /**
   * With SANDBOX_USER_NAMESPACES=false, whether anyone may take an open
   * dedicated exam on the sandbox provider; until true such exams need an
   * invitation (no anonymous candidate). Ignored with user namespaces on.
   */
  SANDBOX_TRUSTED_CANDIDATES: bool.default(false),
});

export type Env = z.infer<typeof envSchema>;

/** The validated configuration, grouped by concern. */
export interface AppConfig {
  env: Env['NODE_ENV'];
  http: {
    host: string;
    port: number;
    trustProxy: boolean | number | string;
    cookieSecurity: 'auto' | 'always' | 'never';
  };
  /** Per-client request windows (in-memory, per API process) and session caps. */
  limits: {
    publicRequests: RequestWindow;
    sessionStarts: RequestWindow;
    maxActiveSessions: number;
    maxActiveSessionsPerClient: number;
  };
  log: { level: Env['LOG_LEVEL'] };
  database:
    | { type: 'sqlite'; path: string; migrationsRun: boolean }
    | { type: 'postgres'; url: string; migrationsRun: boolean };
  redis: { url: string; prefix: string };
  worker: {
    enabled: boolean;
    concurrency: number;
    attempts: number;
    backoffMs: number;
    reconcileIntervalMs: number;
  };
  grading: { concurrency: number; checkConcurrency: number };
  bank: { questionsDir: string; gradersDir: string };
  web: { root: string };
  cluster: { kubeconfig?: string; context?: string };
  /**
   * Clusters by the alias questions name (`cluster: main`). `main` is the
   * current kubeconfig context unless CLUSTERS names it otherwise.
   */
  clusters: ClusterTarget[];
  provisioning: {
    engineNamespace: string;
    readyTimeoutSeconds: number;
    tokenGraceSeconds: number;
    teardownAfterSeconds: number;
    sweepIntervalMs: number;
    hostPathRoots: string[];
  };
  terminal: TerminalConfig;
  environments: EnvironmentsConfig;
}

export interface EnvironmentsConfig {
  provider: 'none' | 'sandbox';
  poolSize: number;
  sandboxClustersDir: string;
  clusterBytes: number;
  reserveBytes: number;
  /** At most this many live clusters (0: only memory limits them). */
  maxClusters: number;
  startTimeoutMs: number;
  /** Each cluster's cgroup cpu.shares. */
  cpuShares: number;
  /** Whether the sandbox provider's nodes run in user namespaces (see SECURITY.md). */
  sandboxUserNamespaces: boolean;
  /** Whether anyone may take an open dedicated exam on the sandbox provider whose nodes run as root. */
  sandboxTrustedCandidates: boolean;
}

export interface TerminalConfig {
  enabled: 'auto' | boolean;
  graceMs: number;
  pidsMax: number;
  memoryBytes: number;
  cpuShares: number;
  homeBytes: number;
  kubectl?: string;
  helm?: string;
  extraBinds: { source: string; target: string }[];
  hostname: string;
  runDir: string;
  recordingsDir: string;
  recordingMaxBytes: number;
  replayBytes: number;
  uidBase: number;
}

/** At most `limit` requests per client in each `windowMs`; a limit of 0 turns it off. */
export interface RequestWindow {
  limit: number;
  windowMs: number;
}

export interface ClusterTarget {
  alias: string;
  /** Unset: the default kubeconfig (~/.kube/config, or in-cluster). */
  kubeconfig?: string;
  context?: string;
}

export class ConfigValidationError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n'),
    );
    this.name = 'ConfigValidationError';
  }
}

/** Validates the environment once; every bad variable is reported together. */
export function loadConfig(source: Record<string, string | undefined>): AppConfig {
  // An empty variable means "not set", as in most .env conventions.
  const cleaned = Object.fromEntries(
    Object.entries(source).filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigValidationError(
      parsed.error.issues.map((issue) => {
        const variable = String(issue.path[0]);
        // URLs may carry passwords: name the variable, never echo its value.
        const got = variable.endsWith('_URL') ? '' : ` (got ${JSON.stringify(cleaned[variable])})`;
        return { variable, message: `${issue.message}${got}` };
      }),
    );
  }
  const env = parsed.data;
  return {
    env: env.NODE_ENV,
    http: {
      host: env.HOST,
      port: env.PORT,
      trustProxy: trustProxyOf(env.TRUST_PROXY),
      cookieSecurity: ({ auto: 'auto', true: 'always', false: 'never' } as const)[
        env.COOKIE_SECURE
      ],
    },
    limits: {
      publicRequests: env.THROTTLE_PUBLIC,
      sessionStarts: env.THROTTLE_SESSION_START,
      maxActiveSessions: env.MAX_ACTIVE_SESSIONS,
      maxActiveSessionsPerClient: env.MAX_ACTIVE_SESSIONS_PER_CLIENT,
    },
    log: { level: env.LOG_LEVEL },
    database: env.DATABASE_URL
      ? { type: 'postgres', url: env.DATABASE_URL, migrationsRun: env.DB_MIGRATIONS_RUN }
      : { type: 'sqlite', path: resolve(env.SQLITE_PATH), migrationsRun: env.DB_MIGRATIONS_RUN },
    redis: { url: env.REDIS_URL, prefix: env.QUEUE_PREFIX },
    worker: {
      enabled: env.WORKER_ENABLED,
      concurrency: env.WORKER_CONCURRENCY,
      attempts: env.JOB_ATTEMPTS,
      backoffMs: env.JOB_BACKOFF_MS,
      reconcileIntervalMs: env.RECONCILE_INTERVAL_MS,
    },
    grading: {
      concurrency: env.GRADING_CONCURRENCY,
      checkConcurrency: env.GRADING_CHECK_CONCURRENCY,
    },
    bank: { questionsDir: resolve(env.QUESTIONS_DIR), gradersDir: resolve(env.GRADERS_DIR) },
    web: { root: resolve(env.WEB_ROOT) },
    cluster: { kubeconfig: env.KUBECONFIG, context: env.KUBE_CONTEXT },
    clusters: clusterTargets(env),
    provisioning: {
      engineNamespace: env.ENGINE_NAMESPACE,
      readyTimeoutSeconds: env.READY_TIMEOUT_SECONDS,
      tokenGraceSeconds: env.TOKEN_GRACE_SECONDS,
      teardownAfterSeconds: env.TEARDOWN_AFTER_SECONDS,
      sweepIntervalMs: env.SWEEP_INTERVAL_MS,
      hostPathRoots: env.HOSTPATH_ROOTS.split(','),
    },
    terminal: {
      enabled: env.TERMINAL_ENABLED === 'auto' ? 'auto' : env.TERMINAL_ENABLED === 'true',
      graceMs: env.TERMINAL_GRACE_SECONDS * 1000,
      pidsMax: env.TERMINAL_PIDS_MAX,
      memoryBytes: env.TERMINAL_MEMORY_MB * MIB,
      cpuShares: env.TERMINAL_CPU_SHARES,
      homeBytes: env.TERMINAL_HOME_MB * MIB,
      kubectl: env.TERMINAL_KUBECTL ? resolve(env.TERMINAL_KUBECTL) : undefined,
      helm: env.TERMINAL_HELM ? resolve(env.TERMINAL_HELM) : undefined,
      extraBinds: (env.TERMINAL_EXTRA_BINDS ?? '')
        .split(',')
        .filter(Boolean)
        .map((entry) => {
          const [source, target] = entry.split(':');
          return { source, target: target ?? source };
        }),
      hostname: env.TERMINAL_HOSTNAME,
      runDir: resolve(
        env.TERMINAL_RUN_DIR ??
          (process.getuid?.() === 0
            ? '/run/cka-terminal'
            : join(tmpdir(), `cka-terminal-${process.getuid?.() ?? 'user'}`)),
      ),
      recordingsDir: resolve(env.TERMINAL_RECORDINGS_DIR),
      recordingMaxBytes: env.TERMINAL_RECORDING_MAX_MB * MIB,
      replayBytes: env.TERMINAL_REPLAY_KB * 1024,
      uidBase: env.TERMINAL_UID_BASE,
    },
    environments: {
      provider: env.CLUSTER_PROVIDER,
      poolSize: env.POOL_SIZE,
      // Root's own folder, not the shared temp dir (see SandboxClusterProvider).
      sandboxClustersDir: resolve(
        env.SANDBOX_CLUSTERS_DIR ??
          (process.getuid?.() === 0 ? '/var/lib/cka-clusters' : join(tmpdir(), 'cka-clusters')),
      ),
      clusterBytes: env.CLUSTER_MEMORY_MB * MIB,
      reserveBytes: env.CLUSTER_MEMORY_RESERVE_MB * MIB,
      maxClusters: env.CLUSTER_MAX,
      startTimeoutMs: env.CLUSTER_START_TIMEOUT_SECONDS * 1000,
      cpuShares: env.CLUSTER_CPU_SHARES,
      sandboxUserNamespaces: env.SANDBOX_USER_NAMESPACES,
      sandboxTrustedCandidates: env.SANDBOX_TRUSTED_CANDIDATES,
    },
  };
}

const MIB = 1024 * 1024;

/** Express's `trust proxy` value from the variable's text. */
function trustProxyOf(value: string): boolean | number | string {
  if (value === 'true' || value === 'false') return value === 'true';
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}

function clusterTargets(env: Env): ClusterTarget[] {
  const named = (env.CLUSTERS ?? '')
    .split(',')
    .filter(Boolean)
    .map((entry) => {
      const [alias, rest] = entry.split(/=(.*)/s, 2);
      const [kubeconfig, context] = rest.split('#');
      return { alias, kubeconfig: resolve(kubeconfig), context: context || undefined };
    });
  if (named.some((c) => c.alias === 'main')) return named;
  return [{ alias: 'main', kubeconfig: env.KUBECONFIG, context: env.KUBE_CONTEXT }, ...named];
}
