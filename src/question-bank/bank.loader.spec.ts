import { fileURLToPath } from 'node:url';
import { formatProblem, loadBank } from './bank.loader.js';
import { DOMAINS } from './question.schema.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = `${root}test/fixtures/banks`;

async function lint(dir: string): Promise<string[]> {
  const bank = await loadBank({ questionsDir: `${fixtures}/${dir}`, gradersDir: `${root}graders` });
  return bank.problems.map((p) => formatProblem(p, `${fixtures}/${dir}`));
}

describe('loadBank', () => {
  it('accepts the shipped bank', async () => {
    const bank = await loadBank({ questionsDir: `${root}questions`, gradersDir: `${root}graders` });
    expect(bank.problems.map((p) => formatProblem(p))).toEqual([]);
    // At least 8 questions over all five CKA domains; every one is in an exam's list.
    expect(bank.questions.size).toBeGreaterThanOrEqual(8);
    expect(new Set([...bank.questions.values()].map((q) => q.spec.domain))).toEqual(
      new Set(Object.keys(DOMAINS)),
    );
    expect([...bank.exams.keys()].sort()).toEqual([
      'cka-dedicated',
      'cka-sample',
      'cka-tools',
      'mock-draw',
      'sample',
    ]);
    const listed = new Set([...bank.exams.values()].flatMap((e) => e.spec.questions ?? []));
    expect([...listed].sort()).toEqual([...bank.questions.keys()].sort());
  });

  it('checks environments: dedicated exams, their clusters and nodes, and which questions fit', async () => {
    const dir = 'test/fixtures/banks/environments';
    expect(await lint('environments')).toEqual([
      'exams/dedicated-draw.yaml:7:16 draw draws 2 questions, but the weighted domains hold only 1 that fit its clusters',
      'exams/no-clusters.yaml:4:14 schema environment: a dedicated exam lists its clusters (clusters: [{ alias: k8s-c1, nodes: [controlplane, node01] }])',
      `exams/other-cluster.yaml:6:13 environment question "shared-task" runs on cluster "main", which is not one of this exam's clusters (k8s-c2) (${dir}/shared-task.yaml, at cluster)`,
      'exams/shared-clusters.yaml:4:11 schema clusters: clusters belong to a dedicated exam (environment: dedicated); a shared exam uses the clusters the operator configured',
      `exams/shared-node-task.yaml:4:26 environment question "node-task" needs a dedicated environment (environment: dedicated), and this exam is shared (${dir}/node-task.yaml, at environment)`,
      'exams/wrong-cluster.yaml:7:52 schema clusters[1].nodes[2]: node "node01" is listed twice in k8s-c1',
      'exams/wrong-cluster.yaml:8:14 schema clusters[2].alias: cluster alias "k8s-c2" is listed twice',
      `exams/wrong-node.yaml:6:13 environment question "wrong-node" names node "node09", which cluster k8s-c1 of this exam does not have (controlplane, node01) (${dir}/wrong-node.yaml, at host)`,
      'host-shared.yaml:5:7 schema host: a task done on a node host needs environment: dedicated (shared clusters have no hosts)',
      'host-shared.yaml:7:5 schema setup[0].on: a run step names the node it runs on (on: node01)',
      'run-shared.yaml:6:10 setup setup[0]: a run step acts on a node host, which only dedicated environments have: add environment: dedicated to the question',
      'run-shared.yaml:11:20 environment checks[1] (f): a file check needs real nodes (a node host, or pods that really run), which only dedicated environments have: add environment: dedicated to the question',
    ]);
    // What is valid loads: a dedicated question may set up cluster-wide objects (a CRD) and run scripts on its nodes.
    const bank = await loadBank({
      questionsDir: `${fixtures}/environments`,
      gradersDir: `${root}graders`,
    });
    expect([...bank.exams.keys()]).toEqual(['dedicated']);
    expect(bank.exams.get('dedicated')!.spec).toMatchObject({
      environment: 'dedicated',
      clusters: [
        { alias: 'k8s-c1', nodes: ['controlplane', 'node01'] },
        { alias: 'main', nodes: ['controlplane'] },
      ],
    });
    expect(bank.questions.get('node-task')!.spec).toMatchObject({
      environment: 'dedicated',
      host: 'node01',
      setup: [{ run: 'systemctl stop kubelet', on: 'node01' }, { apply: expect.any(String) }],
    });
  });

  it('reports every problem at once, each with file, line, column and rule', async () => {
    expect(await lint('invalid')).toEqual([
      'bad-allow.yaml:5:9 schema allow[0]: Invalid input: expected "control-plane"',
      'check-fields.yaml:16:5 check checks[0] (typo): unknown field "mtach" (kind resource)',
      'check-fields.yaml:23:12 match checks[1] (operator): spec.replicas: unknown operator $between (known: $regex, $gte, $lte, $in, $absent, $exists, $anyOf, $exact, $exactKeys)',
      'check-fields.yaml:32:17 kind checks[3] (kind): Deployment is served as apps/v1, not v1',
      'check-fields.yaml:40:17 cel checks[4] (cel): expression: unexpected token: EOF at column 24',
      'check-fields.yaml:46:17 cel checks[5] (cel-name): expression: unknown variable: deplyo (known: deploy, vars, variables, answer)',
      'check-fields.yaml:52:20 selector checks[6] (fields): field selector term "status.phase" is not path=value or path!=value',
      'cycle.yaml:7:3 requires requires form a cycle: a -> b -> a',
      'entries-schema.yaml:18:5 schema solutions[0].name: each entry needs a name (bank:test reports it as solutions[name] or mistakes[name])',
      'entries-schema.yaml:19:11 schema solutions[1].name: must be lower-case letters, digits and dashes',
      'entries-schema.yaml:20:15 schema solutions[1].commands: commands is a list of shell commands (or "answer: <text>") that bank:test runs',
      'entries-schema.yaml:22:5 schema mistakes[0].maxPoints: a mistake needs maxPoints: the most points it may score, below the weight',
      'entries-schema.yaml:27:5 schema mistakes[1]: unknown field "points"',
      'entries.yaml:32:15 solutions solutions[1] (empty) has no commands: list the shell commands bank:test runs as the candidate (or "answer: <text>" to submit an answer)',
      'entries.yaml:34:11 mistakes mistakes[0]: the name "declarative" is already used by solutions[0]; give each solution and mistake a name of its own (bank:test reports them by name)',
      'entries.yaml:39:16 mistakes mistakes[1] (full-marks): maxPoints 3 is not below the weight 3, so it would not show that the mistake is graded down; lower it to the most the mistake may score, or move the entry to solutions if it deserves full marks',
      'entries.yaml:45:30 template mistakes[3].commands[0]: "nss" is not a variable of this question',
      'exams/both.yaml:1:1 schema an exam has either a questions list or a draw, not both and not neither',
      'exams/draw-too-many.yaml:5:10 draw draws 50 questions, but the weighted domains hold only 0',
      'exams/refs.yaml:4:13 reference no valid question "nope" in the bank',
      'exams/refs.yaml:4:19 reference no valid question "cycle" in the bank',
      'exams/refs.yaml:4:26 reference no valid question "cycle" in the bank',
      'exams/refs.yaml:4:26 reference question "cycle" is listed twice',
      'misnamed.yaml:1:5 file-name id "other-name" must match the file name "misnamed"',
      'misnamed.yaml:6:3 setup manifest 1 has no metadata.name',
      'schema.yaml:3:9 schema domain: Invalid option: expected one of "troubleshooting"|"cluster-architecture"|"services-networking"|"workloads-scheduling"|"storage"',
      'schema.yaml:4:9 schema weight: Too small: expected number to be >=1',
      'schema.yaml:5:1 schema unknown field "colour"',
      'schema.yaml:7:8 schema vars.bad: a variable needs exactly one of: namespace, oneOf, int, name, value',
      'schema.yaml:9:9 schema checks: Too small: expected array to have >=1 items',
      "semantic.yaml:4:9 points the checks' points add up to 4, but the weight is 5",
      'semantic.yaml:7:13 vars int range is empty: min 5 > max 1',
      'semantic.yaml:10:19 template task: "nme" is not a variable of this question',
      'semantic.yaml:16:16 requires check "a" requires "zzz", which is not a check of this question',
      'semantic.yaml:17:9 check-id check id "a" is used twice (also checks[0])',
      'semantic.yaml:19:13 grader grader "missing-grader" not found in graders/',
      'semantic.yaml:23:13 grader only custom checks take a grader (this one is count)',
      'semantic.yaml:25:8 docs example.com is not documentation allowed in the exam (kubernetes.io, helm.sh, gateway-api.sigs.k8s.io)',
      'shared-state.yaml:8:3 setup manifest 1 (PersistentVolume shared-volume): cluster-scoped objects of a setup must be named {{prefix}}-… (they are shared by every session otherwise)',
      'shared-state.yaml:12:3 setup manifest 2 (CustomResourceDefinition widgets.example.com): it changes the cluster for every candidate of a shared cluster (tasks like this belong to dedicated environments)',
      'shared-state.yaml:16:3 setup manifest 3 (StorageClass s0lint-fast): a default class: it changes the cluster for every candidate of a shared cluster (tasks like this belong to dedicated environments)',
      'shared-state.yaml:30:37 pattern checks[0] (a): /^(x)\\1$/ is not a pattern the linear-time (RE2) engine accepts: invalid escape sequence: `\\1`',
      'syntax.yaml:3:1 yaml Flow sequence in block collection must be sufficiently indented and end with a ]',
      'template-helpers.yaml:8:8 vars "max" is the name of a template helper ({{max …}}); choose another name',
      'template-helpers.yaml:11:11 template task: sub takes 2 numbers, got 1 argument: write {{sub a b}}',
      'template-helpers.yaml:11:33 template task: div: division by zero (argument 2 is 0)',
      'template-helpers.yaml:19:33 template checks[0].match.spec.priority: add: argument 2 must be a number, got the string "1" (write 1 without quotes)',
      'template-helpers.yaml:20:21 template checks[0].description: "plus" is not a template helper (helpers: add, sub, mul, div, mod, min, max, addQuantity, subQuantity, mulQuantity, divQuantity, join, upper, lower, if, unless, each, with, lookup, log)',
      'template-helpers.yaml:23:61 template solution.commands[0]: "replicas" is not a variable of this question (argument 1 of add)',
    ]);
  });
});
