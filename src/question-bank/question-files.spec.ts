import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatProblem, loadBank } from './bank.loader.js';
import { homePathProblem, renderQuestionFiles } from './question-files.js';

const question = (id: string, files: string, extra = '') => `id: ${id}
title: Q
domain: storage
weight: 1
vars:
  ns: { namespace: app }
files:
${files}
task: Answer.
checks:
  - { id: a, kind: answer, equals: x, description: d }
solution: { explanation: e, commands: ["answer: x"] }
${extra}`;

/** Lints a bank made of these files (name → text) and returns the formatted problems. */
async function lint(files: Record<string, string>): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'bank-files-'));
  try {
    await mkdir(join(dir, 'exams'));
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    const bank = await loadBank({ questionsDir: dir, gradersDir: join(dir, 'graders') });
    return bank.problems.map((p) => formatProblem(p, dir));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('question files: lint', () => {
  it('refuses paths outside the home, the engine’s own, templated, twice or file-in-file', async () => {
    const files = [
      '/etc/app.yaml',
      '~/app.yaml',
      '../escape.yaml',
      'app//x.yaml',
      'app/./x.yaml',
      'dir\\x.yaml',
      '.kube/config',
      '.bashrc',
      '"{{ns}}/x.yaml"',
      'ok.yaml',
      'ok.yaml',
      'ok.yaml/inner.yaml',
    ]
      .map((path) => `  - { path: ${path.includes('\\') ? `'${path}'` : path}, content: x }`)
      .join('\n');
    expect(await lint({ 'paths.yaml': question('paths', files) })).toEqual([
      'paths.yaml:8:13 files files[0].path "/etc/app.yaml" is absolute; write it relative to the candidate\'s home ("etc/app.yaml" becomes ~/etc/app.yaml)',
      'paths.yaml:9:13 files files[1].path "~/app.yaml" starts with ~; paths are relative to the home already (write "app.yaml")',
      'paths.yaml:10:13 files files[2].path "../escape.yaml" leaves the candidate\'s home (a ".." segment); write a path inside it, without ".."',
      'paths.yaml:11:13 files files[3].path "app//x.yaml" has an empty or "." segment; write it as "app/x.yaml"',
      'paths.yaml:12:13 files files[4].path "app/./x.yaml" has an empty or "." segment; write it as "app/x.yaml"',
      'paths.yaml:13:13 files files[5].path "dir\\x.yaml" has a backslash or a control character; separate folders with / and use printable characters',
      'paths.yaml:14:13 files files[6].path ".kube/config" ~/.kube is the engine\'s (the candidate\'s kubeconfig and shell settings); choose another path',
      'paths.yaml:15:13 files files[7].path ".bashrc" ~/.bashrc is the engine\'s (the candidate\'s kubeconfig and shell settings); choose another path',
      'paths.yaml:16:13 files files[8].path "{{ns}}/x.yaml" is a template; a path is written as it is (lint must know it), so put the variable in the content or the task',
      'paths.yaml:18:13 files files[10].path "ok.yaml" is shipped twice (also files[9]); keep one',
      'paths.yaml:19:13 files files[11].path "ok.yaml/inner.yaml" and files[9].path "ok.yaml" cannot both be: one would be a folder and a file at once; rename one',
    ]);
  });

  it('refuses a file or a question over the size limits, naming them', async () => {
    const big = (kib: number) => `"${'x'.repeat(kib * 1024)}"`;
    const files = [33, 31, 31, 31, 31]
      .map((kib, i) => `  - { path: f${i}.txt, content: ${big(kib)} }`)
      .join('\n');
    expect(await lint({ 'big.yaml': question('big', files) })).toEqual([
      'big.yaml:8:3 files the files come to 157 KiB, over the 128 KiB a question may ship; ship fewer or smaller files',
      "big.yaml:8:30 files files[0] (f0.txt) is 33 KiB, over the 32 KiB a file may be; ship a smaller file (the candidate's home is small), or split it",
    ]);
  });

  it('renders content as a template, and says to ship a Helm template verbatim', async () => {
    const files = `  - path: charts/web/templates/deployment.yaml
    content: |
      metadata:
        name: {{ .Release.Name }}
  - path: charts/web/templates/service.yaml
    verbatim: true
    content: |
      metadata:
        name: {{ .Release.Name }}
  - path: app/deploy.yaml
    content: |
      namespace: {{ns}}
      name: {{nmae}}`;
    const problems = await lint({ 'tpl.yaml': question('tpl', files) });
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(
      /^tpl\.yaml:11:9 files files\[0\]\.content: .+; a Helm chart or Go template\? add verbatim: true to ship it as written$/,
    );
    expect(problems[1]).toBe(
      'tpl.yaml:20:15 files files[2].content: "nmae" is not a variable of this question',
    );
  });

  it('refuses two questions of an exam, listed or drawn together, shipping one path', async () => {
    const one = (id: string, path: string) => question(id, `  - { path: ${path}, content: x }`);
    expect(
      await lint({
        'a.yaml': one('a', 'app/kustomization.yaml'),
        'b.yaml': one('b', 'app'),
        'c.yaml': one('c', 'other.yaml'),
        'exams/listed.yaml': 'id: listed\ntitle: E\ndurationMinutes: 10\nquestions: [a, c, b]\n',
        'exams/drawn.yaml':
          'id: drawn\ntitle: E\ndurationMinutes: 10\ndraw: { count: 2, weights: { storage: 1 } }\n',
      }),
    ).toEqual([
      'exams/drawn.yaml:4:7 files questions "a" and "b" may be drawn together, and they ship ~/app/kustomization.yaml and ~/app: rename the path in one of them (the files of an exam share one home)',
      'exams/listed.yaml:4:19 files question "b" ships ~/app, and "a" (questions[0]) ships ~/app/kustomization.yaml: rename the path in one of them (the files of an exam share one home)',
    ]);
  });

  it('accepts the shipped questions that carry files', async () => {
    const ok = `  - { path: app/base/kustomization.yaml, content: "namespace: {{ns}}" }
  - { path: bin/run.sh, content: "echo hi", executable: true }`;
    expect(await lint({ 'ok.yaml': question('ok', ok) })).toEqual([]);
  });
});

describe('question files: rendering and paths', () => {
  it('renders content with the variables, verbatim files as written', () => {
    expect(
      renderQuestionFiles(
        [
          { path: 'a.yaml', content: 'ns: {{ns}}', verbatim: false, executable: false },
          { path: 't.yaml', content: 'n: {{ .Values.n }}', verbatim: true, executable: true },
        ],
        { ns: 's1-app' },
      ),
    ).toEqual([
      { path: 'a.yaml', content: 'ns: s1-app', executable: false },
      { path: 't.yaml', content: 'n: {{ .Values.n }}', executable: true },
    ]);
  });

  it('takes paths inside the home only', () => {
    expect(homePathProblem('charts/web/Chart.yaml')).toBeUndefined();
    expect(homePathProblem('.config/app.yaml')).toBeUndefined();
    for (const bad of ['/x', '../x', 'a/../../x', 'a/', '', '.kube/config', 'a\u0000b'])
      expect(homePathProblem(bad)).toBeDefined();
  });
});
