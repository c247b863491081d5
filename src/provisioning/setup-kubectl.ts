import { execFile } from 'node:child_process';
import type { ClusterTarget } from '../config/config.schema.js';

/** What kubectl may print on failure that a setup message keeps. */
const MAX_STDERR = 2000;
/** What a setup command needs from the engine's environment: no database or Redis secrets. */
const PASSED_ENV = [
  'PATH',
  'HOME',
  'KUBERNETES_SERVICE_HOST',
  'KUBERNETES_SERVICE_PORT',
  'HTTPS_PROXY',
  'HTTP_PROXY',
  'NO_PROXY',
  'https_proxy',
  'http_proxy',
  'no_proxy',
];

export interface KubectlRun {
  /** The kubectl binary (TERMINAL_KUBECTL, or the first on PATH). */
  kubectl: string;
  /** The cluster as the engine reaches it: its kubeconfig and context, the engine's credentials. */
  target: ClusterTarget;
  args: string[];
  timeoutMs: number;
}

/**
 * Runs one setup command as the engine: its kubeconfig and context come
 * first, so the command acts with the engine's credentials on the question's
 * cluster (lint refuses flags that would change either). No shell; stdin is
 * closed; bounded in time. Resolves with stdout; rejects with kubectl's
 * stderr.
 */
export function runKubectl({ kubectl, target, args, timeoutMs }: KubectlRun): Promise<string> {
  const env: NodeJS.ProcessEnv = {};
  for (const name of PASSED_ENV) if (process.env[name] !== undefined) env[name] = process.env[name];
  const argv = [
    ...(target.kubeconfig ? ['--kubeconfig', target.kubeconfig] : []),
    ...(target.context ? ['--context', target.context] : []),
    ...args,
  ];
  const shown = `kubectl ${args.join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = execFile(
      kubectl,
      argv,
      { env, timeout: timeoutMs, maxBuffer: 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const failure = error as NodeJS.ErrnoException & { killed?: boolean; code?: unknown };
        if (failure.code === 'ENOENT')
          return reject(new Error(`${shown}: no kubectl at ${kubectl} (set TERMINAL_KUBECTL)`));
        if (failure.killed)
          return reject(new Error(`${shown} did not finish within ${timeoutMs / 1000} s`));
        const output = (stderr.trim() || stdout.trim()).slice(-MAX_STDERR);
        reject(
          new Error(
            `${shown} failed (exit ${typeof failure.code === 'number' ? failure.code : 'unknown'})${output ? `: ${output}` : ''}`,
          ),
        );
      },
    );
    child.stdin?.end();
  });
}
