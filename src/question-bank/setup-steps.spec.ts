import { fileURLToPath } from 'node:url';
import { formatProblem, loadBank } from './bank.loader.js';
import {
  kubectlStepProblems,
  legacySetupSteps,
  renderSetupSteps,
  setupStepsOf,
} from './setup-steps.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = `${root}test/fixtures/banks/setup-steps`;

describe('setup steps', () => {
  it('lints each step with file, line, column and a message that names the fix', async () => {
    const bank = await loadBank({ questionsDir: fixtures, gradersDir: `${root}graders` });
    expect(bank.problems.map((p) => formatProblem(p, fixtures))).toEqual([
      'steps-lint.yaml:9:7 setup setup[0]: manifest 1 has no metadata.name',
      'steps-lint.yaml:12:29 setup setup[1]: kubectl --kubeconfig: the command runs on the cluster the question names (cluster:); to set up another, make it a question of that cluster',
      'steps-lint.yaml:13:15 setup setup[2]: kubectl --as: setup commands run as the engine; to check what an identity may do, use a canI check',
      'steps-lint.yaml:13:35 setup setup[2]: kubectl -s: the command runs on the cluster the question names (cluster:); to set up another, make it a question of that cluster',
      'steps-lint.yaml:14:15 setup setup[3]: kubectl config is not a setup command (allowed: annotate, autoscale, create, delete, exec, expose, get, label, patch, rollout, run, scale, set, wait)',
      'steps-lint.yaml:15:29 setup setup[4]: kubectl apply: write the manifests in an apply step instead (they are labelled and linted)',
      "steps-lint.yaml:15:36 setup setup[4]: kubectl -f: it reads files of the engine's host; write manifests in an apply step (they are labelled and linted)",
      'steps-lint.yaml:16:22 setup setup[5]: it changes a node, which every candidate of a shared cluster shares (tasks like this belong to dedicated environments)',
      'steps-lint.yaml:19:7 setup setup[7]: manifest 1 (PriorityClass shared-high): cluster-scoped objects of a setup must be named {{prefix}}-… (they are shared by every session otherwise)',
      'steps-lint.yaml:24:3 setup setupWaits go with a setup string; in a list of steps, write each as a step where it belongs (- wait: { apiVersion, kind, name, namespace, condition })',
      'steps-schema.yaml:8:5 schema setup[0]: a step does one thing: apply and wait here; make each a step of its own',
      'steps-schema.yaml:13:5 schema setup[1]: unknown field "aply"',
      'steps-schema.yaml:13:5 schema setup[1]: a step needs one of: apply (manifests), wait (a condition), kubectl (a command), run (a script on a node: run + on)',
      'steps-schema.yaml:14:5 schema setup[2]: a step needs one of: apply (manifests), wait (a condition), kubectl (a command), run (a script on a node: run + on)',
      'steps-schema.yaml:16:14 schema setup[3].timeout: a wait step takes its timeout inside wait: (wait: { …, timeout: 60 })',
      'steps-schema.yaml:17:32 schema setup[4].kubectl[2]: Invalid input: expected string, received number',
      'steps-template.yaml:12:22 template setup[1].kubectl[1]: "nss" is not a variable of this question',
    ]);
    expect([...bank.questions.keys()]).toEqual(['steps-valid']);
  });

  it('says what setup may be when it is neither a string nor a list', async () => {
    const { questionSchema } = await import('./question.schema.js');
    const result = questionSchema.safeParse({ setup: 3 });
    expect(result.error?.issues.find((i) => i.path[0] === 'setup')?.message).toBe(
      'setup is a string of manifests or a list of steps (apply, wait, kubectl)',
    );
  });

  it('renders steps in order; kubectl arguments are strings, with a default timeout', async () => {
    const bank = await loadBank({ questionsDir: fixtures, gradersDir: `${root}graders` });
    const { spec } = bank.questions.get('steps-valid')!;
    const steps = renderSetupSteps(spec, { ns: 's1-app', replicas: 3, prefix: 's1' });
    expect(steps.map((s) => Object.keys(s)[0])).toEqual(['apply', 'wait', 'kubectl', 'kubectl']);
    expect(steps[0]).toEqual({ apply: expect.stringContaining('namespace: "s1-app"') });
    expect(steps[1]).toEqual({
      wait: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: 'web',
        namespace: 's1-app',
        condition: 'Available',
        timeout: 60,
      },
    });
    expect(steps[2]).toEqual({
      kubectl: ['-n', 's1-app', 'scale', 'deployment/web', '--replicas', '3'],
      timeout: 20,
    });
    expect(steps[3]).toEqual({
      kubectl: [
        '-n',
        's1-app',
        'annotate',
        'deployment/web',
        'kubernetes.io/change-cause=scaled to 3',
      ],
      timeout: 60,
    });
  });

  it('reads a setup string and its setupWaits as one apply step and wait steps', () => {
    const wait = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'web',
      namespace: '{{ns}}',
      condition: 'Available',
      timeout: 30,
    };
    const located = setupStepsOf({ setup: 'kind: X\n', setupWaits: [wait] });
    expect(located).toEqual([
      { step: { apply: 'kind: X\n' }, path: ['setup'], applyPath: ['setup'] },
      { step: { wait }, path: ['setupWaits', 0] },
    ]);
    expect(setupStepsOf({ setup: '', setupWaits: [] })).toEqual([]);
    expect(renderSetupSteps({ setup: 'ns: {{ns}}', setupWaits: [wait] }, { ns: 'a' })).toEqual([
      { apply: 'ns: a' },
      { wait: { ...wait, namespace: 'a' } },
    ]);
    // A session question stored before setupSteps existed.
    expect(legacySetupSteps('  \n', [])).toEqual([]);
    expect(legacySetupSteps('kind: X', [{ ...wait, namespace: 'a' }])).toEqual([
      { apply: 'kind: X' },
      { wait: { ...wait, namespace: 'a' } },
    ]);
  });

  it('refuses identity and target flags in every spelling, and stops reading flags at --', () => {
    const refused = (args: string[]) => kubectlStepProblems(args).map((p) => [p.arg, p.message]);
    for (const args of [
      ['get', 'pods', '--token', 'x'],
      ['get', 'pods', '--token=x'],
      ['--server=https://x', 'get', 'pods'],
      ['-shttps://x', 'get', 'pods'],
      ['-s=https://x', 'get', 'pods'],
      ['get', 'pods', '--context', 'other'],
      ['get', 'pods', '--cluster=other'],
      ['get', 'pods', '--user=other'],
      ['get', 'pods', '--as-group=system:masters'],
      ['get', 'pods', '--certificate-authority=/ca'],
      ['get', 'pods', '--insecure-skip-tls-verify'],
      ['get', 'pods', '--insecure-skip-tls-verify=true'],
    ])
      expect(refused(args)).toHaveLength(1);
    expect(refused(['-n', 'x', 'exec', 'web', '--', 'sh', '-c', 'x --token=y'])).toEqual([]);
    // -n's value is not the subcommand.
    expect(refused(['-n', 'rollout', 'rollout', 'status', 'deployment/web'])).toEqual([]);
    expect(refused(['--namespace=x', 'rollout', 'pause', 'deployment/web'])).toEqual([]);
    expect(refused(['-n', 'x'])).toEqual([
      [0, 'kubectl needs a subcommand, e.g. [rollout, status, …]'],
    ]);
    expect(refused(['taint', 'nodes', 'node01', 'a=b:NoSchedule'])).toEqual([
      [0, expect.stringMatching(/^kubectl taint is not a setup command/)],
    ]);
    expect(refused(['annotate', 'no/node01', 'a=b'])).toEqual([
      [1, expect.stringMatching(/^it changes a node/)],
    ]);
    expect(refused(['-n', 'x', 'create', 'configmap', 'c', '--from-file=/etc/passwd'])).toEqual([
      [5, expect.stringMatching(/^kubectl --from-file: it reads files of the engine's host/)],
    ]);
  });

  it("lets a dedicated question's setup change nodes, and still refuses identity and target flags", () => {
    const refused = (args: string[]) =>
      kubectlStepProblems(args, 'dedicated').map((p) => [p.arg, p.message]);
    expect(refused(['taint', 'nodes', 'node01', 'a=b:NoSchedule'])).toEqual([]);
    expect(refused(['cordon', 'node01'])).toEqual([]);
    expect(refused(['annotate', 'no/node01', 'a=b'])).toEqual([]);
    expect(refused(['drain', 'node01', '--as=admin'])).toEqual([
      [2, expect.stringMatching(/^kubectl --as: setup commands run as the engine/)],
    ]);
    expect(refused(['apply', '-k', 'x'])).toEqual([
      [1, expect.stringMatching(/^kubectl -k: it reads files/)],
      [0, expect.stringMatching(/^kubectl apply: write the manifests in an apply step/)],
    ]);
  });
});
