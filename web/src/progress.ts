import type { QuestionView } from './api.js';

/** What the navigator shows for one task. */
export interface TaskStatus {
  answered: boolean;
  flagged: boolean;
  visited: boolean;
}

export function hasAnswer(question: Pick<QuestionView, 'answer'>): boolean {
  return (question.answer ?? '').trim() !== '';
}

/**
 * A task with an answer box counts as answered once it has an answer; one
 * solved on the cluster cannot be checked from here, so having opened it
 * is the best the navigator can say.
 */
export function taskStatus(
  question: Pick<QuestionView, 'questionId' | 'answerable' | 'answer' | 'flagged'>,
  visited: ReadonlySet<string>,
): TaskStatus {
  const seen = visited.has(question.questionId);
  return {
    answered: question.answerable ? hasAnswer(question) : seen,
    flagged: question.flagged,
    visited: seen,
  };
}

/** How a screen reader hears a navigator button: "Task 3: answered, flagged for review". */
export function describeTask(position: number, status: TaskStatus): string {
  const parts = [status.answered ? 'answered' : status.visited ? 'visited' : 'not visited'];
  if (status.flagged) parts.push('flagged for review');
  return `Task ${position + 1}: ${parts.join(', ')}`;
}

/** What the submit confirmation lists: tasks with an empty answer box, and flagged tasks. */
export function submitSummary<Q extends Pick<QuestionView, 'answerable' | 'answer' | 'flagged'>>(
  questions: readonly Q[],
): { unanswered: Q[]; flagged: Q[] } {
  return {
    unanswered: questions.filter((q) => q.answerable && !hasAnswer(q)),
    flagged: questions.filter((q) => q.flagged),
  };
}

export function totalPoints(questions: readonly Pick<QuestionView, 'weight'>[]): number {
  return questions.reduce((sum, q) => sum + q.weight, 0);
}
