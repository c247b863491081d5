import type { ExamSpec, QuestionSpec } from './question.schema.js';
import type { PathKey } from './yaml-source.js';

/**
 * Whether a question can be posed in an exam's environment, and if not why
 * (with where in the question the reason lies). One rule for lint (an exam's
 * questions list) and for a draw (which only picks questions that fit).
 *
 * - A shared exam takes the questions that work on namespaces of a shared
 *   cluster (environment `any`).
 * - A dedicated exam takes both, if the question's cluster is one of the
 *   exam's and every node it names (its host, its setup's run steps) is a
 *   node of that cluster.
 */
export function whyQuestionDoesNotFit(
  question: QuestionSpec,
  exam: Pick<ExamSpec, 'environment' | 'clusters'>,
): { path: PathKey[]; message: string } | undefined {
  if (exam.environment === 'shared') {
    if (question.environment === 'dedicated')
      return {
        path: ['environment'],
        message: `question "${question.id}" needs a dedicated environment (environment: dedicated), and this exam is shared`,
      };
    return undefined;
  }
  const cluster = exam.clusters?.find((c) => c.alias === question.cluster);
  if (!cluster)
    return {
      path: ['cluster'],
      message: `question "${question.id}" runs on cluster "${question.cluster}", which is not one of this exam's clusters (${(exam.clusters ?? []).map((c) => c.alias).join(', ')})`,
    };
  for (const { node, path } of nodesNamedBy(question)) {
    if (!cluster.nodes.includes(node))
      return {
        path,
        message: `question "${question.id}" names node "${node}", which cluster ${cluster.alias} of this exam does not have (${cluster.nodes.join(', ')})`,
      };
  }
  return undefined;
}

/** Every node a question names: its host, the nodes its setup runs scripts on, and its checks look at. */
export function nodesNamedBy(question: QuestionSpec): { node: string; path: PathKey[] }[] {
  const named: { node: string; path: PathKey[] }[] = [];
  if (question.host) named.push({ node: question.host, path: ['host'] });
  if (Array.isArray(question.setup))
    question.setup.forEach((step, i) => {
      if (step.on) named.push({ node: step.on, path: ['setup', i, 'on'] });
    });
  question.checks.forEach((check, i) => {
    const node = (check as { node?: unknown }).node;
    if (typeof node === 'string') named.push({ node, path: ['checks', i, 'node'] });
  });
  return named;
}
