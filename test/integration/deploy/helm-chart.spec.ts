import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse, parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../../support/app.js';
import { eventually } from '../../support/eventually.js';

const run = promisify(execFile);

/**
 * The Helm chart (deploy/helm/cka-engine): `helm lint --strict` and `helm
 * template` clean, the rendered objects checked (Pod Security `restricted`
 * fields, probes, RBAC), every kind the shipped bank sets up or reads covered
 * by the ClusterRole, and the release applied to this run's sandbox in a
 * namespace that enforces `restricted`: the API server admits every pod, and
 * the engine's ServiceAccount may do what the rules say and no more.
 * (kwok's nodes run no containers: whether the image serves is
 * engine-image.spec.ts's part.)
 */
jest.setTimeout(300_000);

const CHART = join(REPO_ROOT, 'deploy/helm/cka-engine');
const DEV = ['--set', 'dev.postgresql.enabled=true', '--set', 'dev.redis.enabled=true'];

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}
interface Container {
  name: string;
  args?: string[];
  env?: { name: string; value?: string }[];
  securityContext?: Record<string, unknown>;
  livenessProbe?: { httpGet?: { path: string; port: string } };
  readinessProbe?: { httpGet?: { path: string; port: string } };
  startupProbe?: { httpGet?: { path: string; port: string } };
  ports?: { name?: string; containerPort: number }[];
  resources?: Record<string, unknown>;
}
interface PodSpec {
  securityContext?: Record<string, unknown>;
  containers: Container[];
  initContainers?: Container[];
  volumes?: Record<string, unknown>[];
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  serviceAccountName?: string;
}
interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

const helm = () => {
  const path = process.env.SANDBOX_HELM;
  if (!path) throw new Error('SANDBOX_HELM is not set: run through the integration Jest project');
  return path;
};
const kubectl = (args: string[], input?: string) => {
  const child = run(
    process.env.SANDBOX_KUBECTL ?? 'kubectl',
    ['--kubeconfig', process.env.SANDBOX_KUBECONFIG ?? '', ...args],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  if (input !== undefined) child.child.stdin?.end(input);
  return child;
};

async function render(namespace: string, ...set: string[]): Promise<K8sObject[]> {
  const { stdout } = await run(helm(), ['template', 'exam', CHART, '-n', namespace, ...set], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return parseAllDocuments(stdout)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => !!o);
}

const podSpecOf = (o: K8sObject) =>
  (o as unknown as { spec: { template: { spec: PodSpec } } }).spec.template.spec;
const byKind = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);

let objects: K8sObject[];
const namespace = `chart-${randomBytes(3).toString('hex')}`;

beforeAll(async () => {
  objects = await render(namespace, ...DEV);
});

afterAll(async () => {
  await kubectl(['delete', 'namespace', namespace, '--ignore-not-found', '--wait=false']).catch(
    () => undefined,
  );
  await kubectl([
    'delete',
    'clusterrole,clusterrolebinding',
    'exam-cka-engine',
    '--ignore-not-found',
  ]).catch(() => undefined);
});

describe('helm', () => {
  it('lints the chart clean (--strict), with external and with dev data stores', async () => {
    for (const values of [
      ['--set', 'database.url=postgres://cka@db:5432/cka', '--set', 'redis.url=redis://r:6379'],
      [...DEV, '--set', 'ingress.enabled=true'],
      ['--set', 'existingSecret=engine-urls'],
    ]) {
      const { stdout, stderr } = await run(helm(), ['lint', '--strict', CHART, ...values]);
      expect(stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
      expect(`${stdout}${stderr}`).not.toMatch(/\[(WARNING|ERROR)\]/);
    }
  });

  it('refuses to render without PostgreSQL and Redis, naming what to set', async () => {
    await expect(run(helm(), ['template', 'exam', CHART])).rejects.toThrow(
      /set database\.url .*existingSecret, or dev\.postgresql\.enabled/,
    );
  });

  it('renders the API, the worker, migrations, Service, PDBs, Secret, RBAC and the dev stores', () => {
    const names = objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    expect(names).toEqual(
      [
        'ClusterRole/exam-cka-engine',
        'ClusterRoleBinding/exam-cka-engine',
        'Deployment/exam-cka-engine-api',
        'Deployment/exam-cka-engine-postgresql',
        'Deployment/exam-cka-engine-redis',
        'Deployment/exam-cka-engine-worker',
        'PodDisruptionBudget/exam-cka-engine-api',
        'PodDisruptionBudget/exam-cka-engine-worker',
        'Secret/exam-cka-engine-urls',
        'Service/exam-cka-engine',
        'Service/exam-cka-engine-postgresql',
        'Service/exam-cka-engine-redis',
        'ServiceAccount/exam-cka-engine',
      ].sort(),
    );
  });
});

describe('the rendered pods', () => {
  it('pass Pod Security restricted field by field', () => {
    for (const deployment of byKind(objects, 'Deployment')) {
      const spec = podSpecOf(deployment);
      const what = deployment.metadata.name;
      expect([what, spec.securityContext?.runAsNonRoot]).toEqual([what, true]);
      expect([what, spec.securityContext?.seccompProfile]).toEqual([
        what,
        { type: 'RuntimeDefault' },
      ]);
      expect([what, spec.hostNetwork, spec.hostPID, spec.hostIPC]).toEqual([
        what,
        undefined,
        undefined,
        undefined,
      ]);
      for (const volume of spec.volumes ?? [])
        expect([what, Object.keys(volume).filter((k) => k !== 'name')]).toEqual([
          what,
          ['emptyDir'],
        ]);
      for (const container of [...(spec.initContainers ?? []), ...spec.containers]) {
        expect([what, container.name, container.securityContext]).toEqual([
          what,
          container.name,
          {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          },
        ]);
        expect(container.resources).toBeDefined();
      }
    }
  });

  it('probe the API on /health/live (liveness, start-up) and /health (readiness)', () => {
    const api = podSpecOf(
      byKind(objects, 'Deployment').find((d) => d.metadata.name.endsWith('-api'))!,
    );
    const [container] = api.containers;
    expect(container.livenessProbe?.httpGet).toEqual({ path: '/health/live', port: 'http' });
    expect(container.startupProbe?.httpGet).toEqual({ path: '/health/live', port: 'http' });
    expect(container.readinessProbe?.httpGet).toEqual({ path: '/health', port: 'http' });
    expect(container.ports).toEqual([{ name: 'http', containerPort: 3000, protocol: 'TCP' }]);
    expect(container.args).toEqual(['dist/src/main.js']);
  });

  it('migrate once in an init container, and start the engine with DB_MIGRATIONS_RUN=false', async () => {
    for (const name of ['-api', '-worker']) {
      const spec = podSpecOf(
        byKind(objects, 'Deployment').find((d) => d.metadata.name.endsWith(name))!,
      );
      expect(spec.initContainers?.map((c) => c.args)).toEqual([
        ['dist/src/database/migration-cli.js', 'run'],
      ]);
      for (const container of [...(spec.initContainers ?? []), ...spec.containers])
        expect(container.env).toEqual(
          expect.arrayContaining([{ name: 'DB_MIGRATIONS_RUN', value: 'false' }]),
        );
      expect(spec.serviceAccountName).toBe('exam-cka-engine');
    }
    const worker = podSpecOf(
      byKind(objects, 'Deployment').find((d) => d.metadata.name.endsWith('-worker'))!,
    );
    expect(worker.containers[0].args).toEqual(['dist/src/worker.js']);
    // The CLI the init container runs is where the build puts it.
    await expect(readdir(join(REPO_ROOT, 'dist/src/database'))).resolves.toContain(
      'migration-cli.js',
    );
  });
});

describe('the ClusterRole', () => {
  const rules = () => byKind(objects, 'ClusterRole')[0].rules as Rule[];
  const grants = (group: string, resource: string, verb: string, name?: string) =>
    rules().some(
      (r) =>
        r.apiGroups.includes(group) &&
        r.resources.includes(resource) &&
        r.verbs.includes(verb) &&
        (!r.resourceNames || (name !== undefined && r.resourceNames.includes(name))),
    );

  it('names every group, resource and verb (no wildcard), and may bind only the admin role', () => {
    for (const rule of rules()) {
      expect([...rule.apiGroups, ...rule.resources, ...rule.verbs]).not.toContain('*');
      if (rule.verbs.includes('bind')) expect(rule).toMatchObject({ resourceNames: ['admin'] });
    }
    expect(grants('rbac.authorization.k8s.io', 'clusterroles', 'bind', 'view')).toBe(false);
    expect(grants('', 'secrets', 'create')).toBe(false);
    expect(grants('', 'nodes', 'patch')).toBe(false);
  });

  it('covers what provisioning, grading and teardown call', () => {
    for (const [group, resource, verbs] of [
      ['', 'namespaces', ['get', 'list', 'create', 'patch', 'delete']],
      ['', 'serviceaccounts', ['get', 'list', 'create', 'patch', 'delete']],
      ['', 'serviceaccounts/token', ['create']],
      ['', 'resourcequotas', ['create', 'patch']],
      ['', 'limitranges', ['create', 'patch']],
      ['rbac.authorization.k8s.io', 'rolebindings', ['create', 'patch', 'delete']],
      [
        'rbac.authorization.k8s.io',
        'clusterroles',
        ['get', 'list', 'create', 'patch', 'delete', 'escalate'],
      ],
      ['rbac.authorization.k8s.io', 'clusterrolebindings', ['list', 'create', 'patch', 'delete']],
      [
        'admissionregistration.k8s.io',
        'validatingadmissionpolicies',
        ['list', 'create', 'patch', 'delete'],
      ],
      [
        'admissionregistration.k8s.io',
        'validatingadmissionpolicybindings',
        ['list', 'create', 'patch', 'delete'],
      ],
      ['', 'persistentvolumes', ['list', 'delete']],
      ['storage.k8s.io', 'storageclasses', ['list', 'delete']],
      ['scheduling.k8s.io', 'priorityclasses', ['list', 'delete']],
      ['networking.k8s.io', 'ingressclasses', ['list', 'delete']],
      ['', 'nodes', ['list']],
      ['', 'pods', ['list', 'delete']],
      ['', 'pods/log', ['get']],
      ['', 'pods/exec', ['create']],
      ['authorization.k8s.io', 'subjectaccessreviews', ['create']],
    ] as const)
      for (const verb of verbs)
        expect([group, resource, verb, grants(group, resource, verb)]).toEqual([
          group,
          resource,
          verb,
          true,
        ]);
    expect(grants('rbac.authorization.k8s.io', 'clusterroles', 'bind', 'admin')).toBe(true);
  });

  it("covers every kind the shared bank's setup applies and its checks read", async () => {
    const { stdout } = await kubectl(['api-resources', '--no-headers', '-o', 'wide']);
    const resourceOf = new Map<string, { group: string; resource: string }>();
    for (const line of stdout.split('\n').filter(Boolean)) {
      const columns = line.trim().split(/\s+/);
      // NAME [SHORTNAMES] APIVERSION NAMESPACED KIND VERBS…
      const at = columns.findIndex((c) => c === 'true' || c === 'false');
      const apiVersion = columns[at - 1];
      resourceOf.set(columns[at + 1], {
        group: apiVersion.includes('/') ? apiVersion.split('/')[0] : '',
        resource: columns[0],
      });
    }
    const wanted = new Map<string, 'setup' | 'read'>();
    for (const file of (await readdir(join(REPO_ROOT, 'questions'))).filter((f) =>
      f.endsWith('.yaml'),
    )) {
      const question = parse(await readFile(join(REPO_ROOT, 'questions', file), 'utf8')) as {
        environment?: string;
        setup?: { apply?: string }[];
        checks?: { resourceKind?: string }[];
      };
      if (question.environment === 'dedicated') continue;
      for (const step of question.setup ?? [])
        for (const match of (step.apply ?? '').matchAll(/^kind:\s*(\w+)/gm))
          wanted.set(match[1], 'setup');
      for (const check of question.checks ?? [])
        if (check.resourceKind && !wanted.has(check.resourceKind))
          wanted.set(check.resourceKind, 'read');
    }
    expect(wanted.size).toBeGreaterThan(5);
    const missing: string[] = [];
    for (const [kind, use] of wanted) {
      const target = resourceOf.get(kind);
      if (!target) {
        missing.push(`${kind}: unknown to the API server`);
        continue;
      }
      for (const verb of use === 'setup' ? ['get', 'create', 'patch'] : ['get', 'list'])
        if (!grants(target.group, target.resource, verb))
          missing.push(`${kind} (${use}): ${verb} ${target.group || 'core'}/${target.resource}`);
    }
    expect(missing).toEqual([]);
  });
});

describe('the release on the sandbox', () => {
  it('is admitted in a namespace enforcing Pod Security restricted, pods and all', async () => {
    await kubectl(['create', 'namespace', namespace]);
    await kubectl([
      'label',
      'namespace',
      namespace,
      'pod-security.kubernetes.io/enforce=restricted',
      'pod-security.kubernetes.io/warn=restricted',
    ]);
    const { stdout: manifest } = await run(helm(), [
      'template',
      'exam',
      CHART,
      '-n',
      namespace,
      ...DEV,
    ]);
    const applied = await kubectl(['apply', '-n', namespace, '-f', '-'], manifest);
    expect(applied.stderr).not.toMatch(/PodSecurity|violate/i);
    // Every Deployment's pods are created (restricted admission would refuse them) and become
    // available (kwok's nodes report them Ready).
    for (const deployment of byKind(objects, 'Deployment'))
      await eventually(
        `${deployment.metadata.name} available`,
        async () =>
          (
            await kubectl([
              'get',
              'deployment',
              deployment.metadata.name,
              '-n',
              namespace,
              '-o',
              'jsonpath={.status.availableReplicas}/{.spec.replicas}',
            ])
          ).stdout,
        (value) => /^(\d+)\/\1$/.test(value),
        60_000,
      );
    const { stdout: events } = await kubectl(['get', 'events', '-n', namespace, '-o', 'json']);
    expect(events).not.toMatch(/violates PodSecurity/);
  });

  it("gives the engine's ServiceAccount what the rules say, and not cluster-admin", async () => {
    const as = `system:serviceaccount:${namespace}:exam-cka-engine`;
    const can = async (...args: string[]) =>
      (
        await kubectl(['auth', 'can-i', '--as', as, ...args]).catch((e: { stdout: string }) => e)
      ).stdout.trim();
    expect(await can('create', 'namespaces')).toBe('yes');
    expect(await can('create', 'serviceaccounts/token', '-n', 'cka-engine-candidates')).toBe('yes');
    expect(await can('bind', 'clusterroles/admin')).toBe('yes');
    expect(await can('bind', 'clusterroles/cluster-admin')).toBe('no');
    expect(await can('create', 'secrets', '-n', 'kube-system')).toBe('no');
    expect(await can('get', 'secrets', '-n', 'kube-system')).toBe('yes');
    expect(await can('patch', 'nodes')).toBe('no');
    expect(await can('create', 'customresourcedefinitions.apiextensions.k8s.io')).toBe('no');
  });
});
