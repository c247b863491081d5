import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { z } from 'zod';
import {
  ALLOWED_DOC_HOSTS,
  DOMAINS,
  type Domain,
  type ExamSpec,
  examSchema,
  type QuestionSpec,
  questionSchema,
} from './question.schema.js';
import { HOST_CHECK_KINDS } from '../grading/check.schema.js';
import { lintCheck } from '../grading/check-lint.js';
import { whyQuestionDoesNotFit } from './environments.js';
import { TEMPLATE_HELPER_NAMES } from './template-helpers.js';
import { renderDeep, renderString, templateProblems } from './templates.js';
import { kubectlStepProblems, setupStepsOf } from './setup-steps.js';
import { firstClash, questionFileProblems } from './question-files.js';
import { drawVariables } from './variables.js';
import { type PathKey, YamlSource } from './yaml-source.js';

/** One thing wrong with the bank, located precisely enough for an editor to jump to. */
export interface BankProblem {
  file: string;
  line: number;
  column: number;
  /** Stable rule name: yaml, schema, unique-id, file-name, points, check-id, requires, grader, docs, template, setup, vars, reference, draw, files, solutions, mistakes; for checks also check, match, cel, kind, selector. */
  rule: string;
  message: string;
}

export function formatProblem(problem: BankProblem, cwd = process.cwd()): string {
  return `${relative(cwd, problem.file) || problem.file}:${problem.line}:${problem.column} ${problem.rule} ${problem.message}`;
}

export interface LoadedQuestion {
  spec: QuestionSpec;
  file: string;
  /** SHA-256 of the file: sessions record which version they were issued. */
  digest: string;
}

export interface LoadedExam {
  spec: ExamSpec;
  file: string;
}

export interface QuestionBank {
  questions: Map<string, LoadedQuestion>;
  exams: Map<string, LoadedExam>;
  problems: BankProblem[];
}

export interface LoadBankOptions {
  questionsDir: string;
  gradersDir: string;
  /** More question or exam files to load besides the bank's own (bank:lint paths). */
  extraFiles?: string[];
}

/** The exam definitions folder inside the questions folder. */
export const EXAMS_SUBDIR = 'exams';
/** Variables used to check that templates compile (a namespace gets a sample prefix). */
const LINT_SEED = 'bank-lint';
const LINT_PREFIX = 's0lint';
const sampleNamespace = (logical: string) => `${LINT_PREFIX}-${logical}`;
/** Variables every template has without declaring them: `prefix` is the session prefix. */
export const BUILTIN_VARIABLES = ['prefix'];

/**
 * Loads every question (questions/**.yaml except exams/) and exam definition
 * (questions/exams/*.yaml) and checks all of it, collecting every problem
 * instead of stopping at the first.
 */
export async function loadBank(options: LoadBankOptions): Promise<QuestionBank> {
  const questionsDir = resolve(options.questionsDir);
  const bank: QuestionBank = { questions: new Map(), exams: new Map(), problems: [] };

  const files = new Set<string>(await yamlFiles(questionsDir));
  for (const extra of options.extraFiles ?? []) files.add(resolve(extra));
  // Exam definitions are the files in an exams/ folder (questions/exams/ in the bank).
  const examFiles = [...files].filter((f) => basename(dirname(f)) === EXAMS_SUBDIR);
  const questionFiles = [...files].filter((f) => !examFiles.includes(f));

  for (const file of questionFiles.sort()) await loadQuestion(file, bank, options.gradersDir);
  for (const file of examFiles.sort()) await loadExam(file, bank);
  bank.problems.sort(
    (a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column,
  );
  return bank;
}

/** Every .yaml/.yml file below `dir` (none if it does not exist). */
export async function yamlFiles(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && ['.yaml', '.yml'].includes(extname(e.name)))
    .map((e) => join(e.parentPath, e.name));
}

async function parseFile(
  file: string,
  bank: QuestionBank,
): Promise<{ source: YamlSource; data: unknown; digest: string } | undefined> {
  const text = await readFile(file, 'utf8');
  const source = new YamlSource(file, text);
  const syntax = source.syntaxErrors();
  for (const error of syntax)
    bank.problems.push({ file, ...error, rule: 'yaml', message: error.message });
  if (syntax.length) return undefined;
  return { source, data: source.toJS(), digest: createHash('sha256').update(text).digest('hex') };
}

type Issue = z.ZodError['issues'][number];

/**
 * The issues to report: a union whose value has the type of exactly one of
 * its options (a list of steps for `setup`) reports that option's own
 * issues, each at its position; otherwise the union's message.
 */
function flatIssues(
  issues: readonly Issue[],
  base: PathKey[] = [],
): { issue: Issue; path: PathKey[] }[] {
  return issues.flatMap((issue) => {
    const path = [...base, ...(issue.path as PathKey[])];
    if (issue.code === 'invalid_union') {
      const typed = issue.errors.filter(
        (option) => !option.some((e) => e.code === 'invalid_type' && e.path.length === 0),
      );
      if (typed.length === 1) return flatIssues(typed[0], path);
    }
    return [{ issue, path }];
  });
}

function schemaProblems(source: YamlSource, error: z.ZodError): BankProblem[] {
  return flatIssues(error.issues).map(({ issue, path }) => {
    const where = path.length ? `${dotted(path)}: ` : '';
    if (issue.code === 'unrecognized_keys') {
      return {
        file: source.file,
        ...source.position(path, issue.keys[0]),
        rule: 'schema',
        message: `${where}unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`,
      };
    }
    return {
      file: source.file,
      ...source.position(path),
      rule: 'schema',
      message: `${where}${issue.message}`,
    };
  });
}

function dotted(path: readonly PathKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i ? `.${p}` : p)).join('');
}

async function loadQuestion(file: string, bank: QuestionBank, gradersDir: string): Promise<void> {
  const parsed = await parseFile(file, bank);
  if (!parsed) return;
  const { source, data, digest } = parsed;
  const result = questionSchema.safeParse(data);
  if (!result.success) {
    bank.problems.push(...schemaProblems(source, result.error));
    return;
  }
  const spec = result.data;
  const problem = (path: PathKey[], rule: string, message: string, key?: string) =>
    bank.problems.push({ file, ...source.position(path, key), rule, message });
  const before = bank.problems.length;

  const existing = bank.questions.get(spec.id);
  checkIdentity('question', spec.id, file, existing?.file, problem);

  const total = spec.checks.reduce((sum, check) => sum + check.points, 0);
  if (total !== spec.weight) {
    problem(
      ['weight'],
      'points',
      `the checks' points add up to ${total}, but the weight is ${spec.weight}`,
    );
  }
  if (spec.baseline > spec.weight) {
    problem(
      ['baseline'],
      'points',
      `baseline ${spec.baseline} is more than the weight ${spec.weight}`,
    );
  }

  checkEntries(spec, problem);

  for (const [name, variable] of Object.entries(spec.vars)) {
    if (BUILTIN_VARIABLES.includes(name))
      problem(
        ['vars', name],
        'vars',
        `"${name}" is built in (the session prefix); choose another name`,
      );
    if (TEMPLATE_HELPER_NAMES.includes(name))
      problem(
        ['vars', name],
        'vars',
        `"${name}" is the name of a template helper ({{${name} …}}); choose another name`,
      );
    if ('int' in variable && variable.int.min > variable.int.max) {
      problem(
        ['vars', name, 'int'],
        'vars',
        `int range is empty: min ${variable.int.min} > max ${variable.int.max}`,
      );
    }
  }

  const checkIds = new Map<string, number>();
  spec.checks.forEach((check, i) => {
    if (checkIds.has(check.id)) {
      problem(
        ['checks', i, 'id'],
        'check-id',
        `check id "${check.id}" is used twice (also checks[${checkIds.get(check.id)}])`,
      );
    } else checkIds.set(check.id, i);
  });
  spec.checks.forEach((check, i) => {
    (check.requires ?? []).forEach((required, j) => {
      if (required === check.id)
        problem(['checks', i, 'requires', j], 'requires', `check "${check.id}" requires itself`);
      else if (!checkIds.has(required)) {
        problem(
          ['checks', i, 'requires', j],
          'requires',
          `check "${check.id}" requires "${required}", which is not a check of this question`,
        );
      }
    });
    if (check.kind === 'custom') {
      if (!check.grader)
        problem(['checks', i], 'grader', `custom check "${check.id}" must name its grader`, 'kind');
      else if (
        !['.ts', '.js'].some((ext) => existsSync(join(gradersDir, `${check.grader}${ext}`)))
      ) {
        problem(
          ['checks', i, 'grader'],
          'grader',
          `grader "${check.grader}" not found in ${relative(process.cwd(), gradersDir) || gradersDir}/`,
        );
      }
    } else if (check.grader) {
      problem(
        ['checks', i, 'grader'],
        'grader',
        `only custom checks take a grader (this one is ${check.kind})`,
      );
    }
  });
  const cycle = requiresCycle(spec);
  if (cycle) problem(['checks'], 'requires', `requires form a cycle: ${cycle.join(' -> ')}`);

  spec.docs.forEach((url, i) => {
    const host = new URL(url).hostname;
    if (!ALLOWED_DOC_HOSTS.some((allowed) => host === allowed || host.endsWith(`.${allowed}`))) {
      problem(
        ['docs', i],
        'docs',
        `${host} is not documentation allowed in the exam (${ALLOWED_DOC_HOSTS.join(', ')})`,
      );
    }
  });

  checkTemplates(spec, source, bank);
  for (const found of questionFileProblems(spec.files, sampleVariables(spec)))
    bank.problems.push({
      file,
      ...(found.line
        ? source.stringLinePosition(found.path, found.line, found.column)
        : source.position(found.path)),
      rule: 'files',
      message: found.message,
    });

  if (bank.problems.length === before && !existing)
    bank.questions.set(spec.id, { spec, file, digest });
}

/**
 * Alternative solutions and known mistakes: each named once (bank:test
 * reports them by name), each with commands to run, and every mistake
 * allowed fewer points than the weight, or bank:test could not show that it
 * is graded down.
 */
function checkEntries(
  spec: QuestionSpec,
  problem: (path: PathKey[], rule: string, message: string, key?: string) => void,
): void {
  const entries = [
    ...spec.solutions.map((entry, i) => ({ list: 'solutions' as const, i, entry })),
    ...spec.mistakes.map((entry, i) => ({ list: 'mistakes' as const, i, entry })),
  ];
  const names = new Map<string, string>();
  for (const { list, i, entry } of entries) {
    const where = `${list}[${i}]`;
    const taken = names.get(entry.name);
    if (taken)
      problem(
        [list, i, 'name'],
        list,
        `${where}: the name "${entry.name}" is already used by ${taken}; give each solution and mistake a name of its own (bank:test reports them by name)`,
      );
    else names.set(entry.name, where);
    if (!entry.commands.length)
      problem(
        [list, i, 'commands'],
        list,
        `${where} (${entry.name}) has no commands: list the shell commands bank:test runs as the candidate (or "answer: <text>" to submit an answer)`,
      );
  }
  spec.mistakes.forEach((mistake, i) => {
    const where = `mistakes[${i}] (${mistake.name})`;
    if (mistake.maxPoints >= spec.weight)
      problem(
        ['mistakes', i, 'maxPoints'],
        'mistakes',
        `${where}: maxPoints ${mistake.maxPoints} is not below the weight ${spec.weight}, so it would not show that the mistake is graded down; lower it to the most the mistake may score, or move the entry to solutions if it deserves full marks`,
      );
  });
}

/** Ids are unique per kind and name their file, so a question is found by its id. */
function checkIdentity(
  kind: 'question' | 'exam',
  id: string,
  file: string,
  takenBy: string | undefined,
  problem: (path: PathKey[], rule: string, message: string) => void,
): void {
  if (takenBy)
    problem(
      ['id'],
      'unique-id',
      `${kind} id "${id}" is already used by ${relative(process.cwd(), takenBy)}`,
    );
  const stem = basename(file, extname(file));
  if (stem !== id) problem(['id'], 'file-name', `id "${id}" must match the file name "${stem}"`);
}

function requiresCycle(spec: QuestionSpec): string[] | undefined {
  const edges = new Map(spec.checks.map((c) => [c.id, c.requires ?? []]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === 'done') return undefined;
    if (state.get(id) === 'visiting') return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, 'visiting');
    stack.push(id);
    for (const next of edges.get(id) ?? []) {
      if (next === id || !edges.has(next)) continue; // reported on their own
      const found = visit(next);
      if (found) return found;
    }
    stack.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const id of edges.keys()) {
    const found = visit(id);
    if (found) return found;
  }
  return undefined;
}

/** The variables lint renders a question's templates with. */
function sampleVariables(spec: QuestionSpec): Record<string, unknown> {
  return { prefix: LINT_PREFIX, ...drawVariables(spec.vars, LINT_SEED, spec.id, sampleNamespace) };
}

/**
 * Renders every template string against sample variables (strict mode), and
 * checks that the rendered setup is a list of Kubernetes objects.
 */
function checkTemplates(spec: QuestionSpec, source: YamlSource, bank: QuestionBank): void {
  const vars = sampleVariables(spec);
  const walk = (value: unknown, path: PathKey[]): void => {
    if (typeof value === 'string') {
      for (const error of templateProblems(value, vars))
        bank.problems.push({
          file: source.file,
          ...source.stringLinePosition(path, error.line, error.column),
          rule: 'template',
          message: `${dotted(path)}: ${error.message}`,
        });
    } else if (Array.isArray(value)) value.forEach((item, i) => walk(item, [...path, i]));
    else if (value && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) walk(item, [...path, key]);
    }
  };
  const before = bank.problems.length;
  walk(spec.task, ['task']);
  walk(spec.setup, ['setup']);
  spec.checks.forEach((check, i) => walk(check, ['checks', i]));
  walk(spec.solution, ['solution']);
  walk(spec.solutions, ['solutions']);
  walk(spec.mistakes, ['mistakes']);
  spec.setupWaits.forEach((wait, i) => walk(wait, ['setupWaits', i]));
  if (bank.problems.length !== before) return;
  spec.checks.forEach((check, i) => {
    if (
      (HOST_CHECK_KINDS as readonly string[]).includes(check.kind) &&
      spec.environment !== 'dedicated'
    )
      bank.problems.push({
        file: source.file,
        ...source.position(['checks', i, 'kind']),
        rule: 'environment',
        message: `checks[${i}] (${check.id}): a ${check.kind} check needs real nodes (a node host, or pods that really run), which only dedicated environments have: add environment: dedicated to the question`,
      });
    for (const problem of lintCheck(renderDeep(check, vars))) {
      bank.problems.push({
        file: source.file,
        ...source.position(['checks', i, ...problem.path], problem.key),
        rule: problem.rule,
        message: `checks[${i}] (${check.id}): ${problem.message}`,
      });
    }
  });
  checkSetupSteps(spec, vars, source, bank);
}

/**
 * The setup's steps, rendered with sample variables: manifests that are
 * Kubernetes objects a shared cluster can take, kubectl commands that stay
 * the engine's on the question's cluster.
 */
function checkSetupSteps(
  spec: QuestionSpec,
  vars: Record<string, unknown>,
  source: YamlSource,
  bank: QuestionBank,
): void {
  const problem = (path: PathKey[], message: string) =>
    bank.problems.push({ file: source.file, ...source.position(path), rule: 'setup', message });
  if (Array.isArray(spec.setup) && spec.setupWaits.length)
    problem(
      ['setupWaits'],
      'setupWaits go with a setup string; in a list of steps, write each as a step where it belongs (- wait: { apiVersion, kind, name, namespace, condition })',
    );
  for (const { step, path, applyPath } of setupStepsOf(spec)) {
    const label = Array.isArray(spec.setup) ? `${dotted(path)}: ` : '';
    if (step.apply !== undefined && applyPath)
      checkSetup(step.apply, applyPath, label, vars, source, bank, spec.environment);
    if (step.run !== undefined && spec.environment !== 'dedicated')
      problem(
        [...path, 'run'],
        `${label}a run step acts on a node host, which only dedicated environments have: add environment: dedicated to the question`,
      );
    if (step.kubectl) {
      const rendered = step.kubectl.map((arg) => String(renderString(arg, vars)));
      for (const found of kubectlStepProblems(rendered, spec.environment))
        problem([...path, 'kubectl', found.arg], `${label}${found.message}`);
    }
  }
}

function checkSetup(
  template: string,
  path: PathKey[],
  label: string,
  vars: Record<string, unknown>,
  source: YamlSource,
  bank: QuestionBank,
  environment: QuestionSpec['environment'],
): void {
  const rendered = String(renderString(template, vars));
  const at = (line: number) => source.stringLinePosition(path, line);
  parseAllDocuments(rendered).forEach((doc, index) => {
    if (!('errors' in doc)) return;
    const startLine = rendered.slice(0, doc.range[0]).split('\n').length;
    if (doc.errors.length) {
      bank.problems.push({
        file: source.file,
        ...at(startLine),
        rule: 'setup',
        message: `${label}manifest ${index + 1}: ${doc.errors[0].message.split('\n')[0]}`,
      });
      return;
    }
    const object = doc.toJS() as Record<string, unknown> | null;
    if (object === null) return; // an empty document between separators
    const metadata = (object?.metadata ?? {}) as Record<string, unknown>;
    const missing = [
      typeof object?.apiVersion === 'string' ? undefined : 'apiVersion',
      typeof object?.kind === 'string' ? undefined : 'kind',
      typeof metadata.name === 'string' ? undefined : 'metadata.name',
    ].filter(Boolean);
    if (missing.length) {
      bank.problems.push({
        file: source.file,
        ...at(startLine),
        rule: 'setup',
        message: `${label}manifest ${index + 1} has no ${missing.join(', ')}`,
      });
      return;
    }
    // A dedicated question's cluster is the candidate's own: anything goes.
    const shared =
      environment === 'dedicated' ? undefined : sharedStateProblem(object, String(vars.prefix));
    if (shared)
      bank.problems.push({
        file: source.file,
        ...at(startLine),
        rule: 'setup',
        message: `${label}manifest ${index + 1} (${String(object.kind)} ${String(metadata.name)}): ${shared}`,
      });
  });
}

/** Kinds whose objects change the cluster for everyone: never in a shared-mode setup. */
const CLUSTER_STATE_KINDS = new Set([
  'Node',
  'CustomResourceDefinition',
  'CertificateSigningRequest',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
  'MutatingAdmissionPolicy',
  'MutatingAdmissionPolicyBinding',
  'APIService',
  'RuntimeClass',
  'FlowSchema',
  'PriorityLevelConfiguration',
]);
/** Cluster-scoped kinds a setup may create, under the session prefix (teardown and the sweeper find them by label). */
const PREFIXED_CLUSTER_KINDS = new Set([
  'Namespace',
  'PersistentVolume',
  'StorageClass',
  'PriorityClass',
  'IngressClass',
  'ClusterRole',
  'ClusterRoleBinding',
]);

/**
 * Why a setup object would touch what every candidate of a shared cluster
 * shares, or undefined. On a shared cluster one candidate's setup must not
 * change another's cluster: such tasks need an environment of their own.
 */
function sharedStateProblem(object: Record<string, unknown>, prefix: string): string | undefined {
  const kind = String(object.kind);
  const metadata = object.metadata as { name: string; annotations?: Record<string, unknown> };
  const dedicated =
    'it changes the cluster for every candidate of a shared cluster (tasks like this belong to dedicated environments)';
  if (CLUSTER_STATE_KINDS.has(kind)) return dedicated;
  if (!PREFIXED_CLUSTER_KINDS.has(kind)) return undefined;
  if (!metadata.name.startsWith(`${prefix}-`))
    return `cluster-scoped objects of a setup must be named {{prefix}}-… (they are shared by every session otherwise)`;
  const isDefault = Object.entries(metadata.annotations ?? {}).some(
    ([key, value]) => key.endsWith('is-default-class') && String(value) === 'true',
  );
  if (isDefault || object.globalDefault === true) return `a default class: ${dedicated}`;
  return undefined;
}

async function loadExam(file: string, bank: QuestionBank): Promise<void> {
  const parsed = await parseFile(file, bank);
  if (!parsed) return;
  const { source, data } = parsed;
  const result = examSchema.safeParse(data);
  if (!result.success) {
    bank.problems.push(...schemaProblems(source, result.error));
    return;
  }
  const spec = result.data;
  const problem = (path: PathKey[], rule: string, message: string) =>
    bank.problems.push({ file, ...source.position(path), rule, message });
  const before = bank.problems.length;

  const existing = bank.exams.get(spec.id);
  checkIdentity('exam', spec.id, file, existing?.file, problem);

  const seen = new Set<string>();
  spec.questions?.forEach((id, i) => {
    const question = bank.questions.get(id);
    if (!question) problem(['questions', i], 'reference', `no valid question "${id}" in the bank`);
    if (seen.has(id)) problem(['questions', i], 'reference', `question "${id}" is listed twice`);
    seen.add(id);
    const misfit = question && whyQuestionDoesNotFit(question.spec, spec);
    if (misfit)
      problem(
        ['questions', i],
        'environment',
        `${misfit.message} (${relative(process.cwd(), question.file)}, at ${misfit.path.join('.')})`,
      );
  });
  checkFileClashes(spec, problem, bank);
  if (spec.draw) {
    const available = countByDomain(bank, spec);
    const weighted = Object.entries(spec.draw.weights).filter(([, w]) => (w ?? 0) > 0);
    if (!weighted.length)
      problem(['draw', 'weights'], 'draw', 'at least one domain needs a weight above 0');
    const pool = weighted.reduce((sum, [domain]) => sum + (available[domain as Domain] ?? 0), 0);
    if (pool < spec.draw.count) {
      problem(
        ['draw', 'count'],
        'draw',
        `draws ${spec.draw.count} questions, but the weighted domains hold only ${pool}${spec.environment === 'dedicated' ? ' that fit its clusters' : ''}`,
      );
    }
  }
  if (bank.problems.length === before && !existing) bank.exams.set(spec.id, { spec, file });
}

/**
 * Two questions of one exam share the candidate's home: they may not ship a
 * file at the same path (nor one inside the other's). Known for a questions
 * list; for a draw, any two questions of the weighted domains may meet.
 */
function checkFileClashes(
  spec: ExamSpec,
  problem: (path: PathKey[], rule: string, message: string) => void,
  bank: QuestionBank,
): void {
  const fix = 'rename the path in one of them (the files of an exam share one home)';
  if (spec.questions) {
    spec.questions.forEach((id, i) => {
      const files = bank.questions.get(id)?.spec.files ?? [];
      for (let j = 0; j < i; j++) {
        const clash = firstClash(files, bank.questions.get(spec.questions![j])?.spec.files ?? []);
        if (clash)
          problem(
            ['questions', i],
            'files',
            `question "${id}" ships ~/${clash[0]}, and "${spec.questions![j]}" (questions[${j}]) ships ~/${clash[1]}: ${fix}`,
          );
      }
    });
    return;
  }
  const weighted = Object.entries(spec.draw?.weights ?? {})
    .filter(([, w]) => (w ?? 0) > 0)
    .map(([domain]) => domain);
  const pool = [...bank.questions.values()]
    .filter(
      (q) =>
        weighted.includes(q.spec.domain) &&
        q.spec.files.length &&
        !whyQuestionDoesNotFit(q.spec, spec),
    )
    .map((q) => q.spec)
    .sort((a, b) => a.id.localeCompare(b.id));
  pool.forEach((a, i) =>
    pool.slice(0, i).forEach((b) => {
      const clash = firstClash(a.files, b.files);
      if (clash)
        problem(
          ['draw'],
          'files',
          `questions "${b.id}" and "${a.id}" may be drawn together, and they ship ~/${clash[1]} and ~/${clash[0]}: ${fix}`,
        );
    }),
  );
}

/** The questions of each domain a draw for `exam` may pick (those that fit its environment). */
export function countByDomain(
  bank: Pick<QuestionBank, 'questions'>,
  exam: Pick<ExamSpec, 'environment' | 'clusters'>,
): Record<Domain, number> {
  const counts = Object.fromEntries(Object.keys(DOMAINS).map((d) => [d, 0])) as Record<
    Domain,
    number
  >;
  for (const { spec } of bank.questions.values())
    if (!whyQuestionDoesNotFit(spec, exam)) counts[spec.domain]++;
  return counts;
}
