import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { AccessQuestion, ClusterClient, ObjectRef } from '../../src/cluster/cluster-client.js';
import { ClusterReads, type ListQuery, type LiveObject } from '../../src/grading/cluster-reads.js';

const run = promisify(execFile);

/**
 * The baseline for bench:grading: reads the way shell-script graders do,
 * one `kubectl` process per read, nothing shared between checks.
 */
export class KubectlReads extends ClusterReads {
  constructor(
    cluster: ClusterClient,
    private readonly kubectl: string,
    private readonly kubeconfig: string,
  ) {
    super(cluster);
  }

  override async get(ref: ObjectRef): Promise<LiveObject | undefined> {
    const { stdout } = await this.exec([
      'get',
      resourceArg(ref.apiVersion, ref.kind),
      ref.name,
      ...(ref.namespace ? ['-n', ref.namespace] : []),
      '--ignore-not-found',
      '-o',
      'json',
    ]);
    return stdout.trim() ? (JSON.parse(stdout) as LiveObject) : undefined;
  }

  override async list(query: ListQuery): Promise<readonly LiveObject[]> {
    const { stdout } = await this.exec([
      'get',
      resourceArg(query.apiVersion, query.kind),
      ...(query.namespace ? ['-n', query.namespace] : []),
      ...(query.labelSelector ? ['-l', query.labelSelector] : []),
      '-o',
      'json',
    ]);
    return (JSON.parse(stdout) as { items: LiveObject[] }).items;
  }

  override async review(question: AccessQuestion): Promise<{ allowed: boolean; reason: string }> {
    const resource = [question.resource, question.group].filter(Boolean).join('.');
    const args = [
      'auth',
      'can-i',
      question.verb,
      `${resource}${question.subresource ? `/${question.subresource}` : ''}`,
      ...(question.name ? [question.name] : []),
      ...(question.namespace ? ['-n', question.namespace] : []),
      `--as=${question.user}`,
      ...(question.groups ?? []).map((g) => `--as-group=${g}`),
    ];
    try {
      await this.exec(args);
      return { allowed: true, reason: '' };
    } catch (error) {
      // can-i exits 1 for "no".
      if ((error as { code?: number }).code === 1) return { allowed: false, reason: '' };
      throw error;
    }
  }

  override fresh(): ClusterReads {
    return this;
  }

  private exec(args: string[]) {
    this.requests++;
    return run(this.kubectl, args, {
      env: { ...process.env, KUBECONFIG: this.kubeconfig },
      maxBuffer: 64 << 20,
    });
  }
}

/** `Deployment.v1.apps`, or `Pod` for the core group: what kubectl resolves without guessing. */
function resourceArg(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  return group ? `${kind}.${version}.${group}` : kind;
}
