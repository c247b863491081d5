import { randomBytes, randomUUID } from 'node:crypto';
import type { RenderedQuestion } from '../question-bank/bank.service.js';
import type { SessionQuestion } from './session-question.entity.js';

const PREFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
/** Every session prefix, as a regular expression (RE2 and CEL syntax): a lead letter and five more. */
export const SESSION_PREFIX_PATTERN = '[a-z][a-z0-9]{5}';

/**
 * A fresh session prefix: `<lead>` and five random letters or digits. It names
 * the candidate's namespaces and must start their cluster-scoped objects.
 */
export function newSessionPrefix(lead = 's'): string {
  return `${lead}${[...randomBytes(5)].map((b) => PREFIX_ALPHABET[b % PREFIX_ALPHABET.length]).join('')}`;
}

/** The physical namespaces the questions' namespace variables became, each once. */
export function namespacesOf(rendered: RenderedQuestion[]): string[] {
  return [
    ...new Set(
      rendered.flatMap((r) =>
        Object.entries(r.question.spec.vars)
          .filter(([, spec]) => 'namespace' in spec)
          .map(([name]) => String(r.variables[name])),
      ),
    ),
  ];
}

/** Namespace → the pod allowances of the questions that use it (only namespaces with some). */
export function podAllowancesOf(rendered: RenderedQuestion[]): Record<string, string[]> {
  const result: Record<string, Set<string>> = {};
  for (const r of rendered) {
    if (!r.question.spec.allow.length) continue;
    for (const [name, spec] of Object.entries(r.question.spec.vars)) {
      if (!('namespace' in spec)) continue;
      const namespace = String(r.variables[name]);
      for (const allowance of r.question.spec.allow)
        (result[namespace] ??= new Set()).add(allowance);
    }
  }
  return Object.fromEntries(Object.entries(result).map(([ns, set]) => [ns, [...set].sort()]));
}

/** Cluster-scoped kinds any of the questions grants, sorted. */
export function clusterResourcesOf(rendered: RenderedQuestion[]): string[] {
  return [...new Set(rendered.flatMap((r) => r.question.spec.clusterResources))].sort();
}

/** The rows that freeze rendered questions on a session, in order, unanswered. */
export function sessionQuestionRows(
  sessionId: string,
  rendered: RenderedQuestion[],
): SessionQuestion[] {
  return rendered.map((r, position): SessionQuestion => ({
    id: randomUUID(),
    sessionId,
    position,
    questionId: r.question.spec.id,
    questionDigest: r.question.digest,
    title: r.question.spec.title,
    domain: r.question.spec.domain,
    weight: r.question.spec.weight,
    cluster: r.question.spec.cluster,
    variables: r.variables,
    task: r.task,
    // Questions issued since setupSteps keep their whole setup there.
    setup: '',
    checks: r.checks,
    solution: r.solution,
    setupWaits: [],
    setupSteps: r.setupSteps,
    files: r.files,
    setupStatus: 'pending',
    setupMessage: null,
    answer: null,
    flagged: false,
    note: null,
    answeredAt: null,
  }));
}
