import { describe, expect, it } from '@jest/globals';
import type { QuestionView } from './api.js';
import { describeTask, hasAnswer, submitSummary, taskStatus, totalPoints } from './progress.js';

function question(position: number, overrides: Partial<QuestionView> = {}): QuestionView {
  return {
    position,
    questionId: `q${position + 1}`,
    title: `Task ${position + 1}`,
    domain: 'workloads',
    domainName: 'Workloads & Scheduling',
    weight: 4,
    cluster: 'k8s',
    task: 'Do it.',
    taskHtml: '<p>Do it.</p>',
    answerable: false,
    setupStatus: 'applied',
    setupMessage: null,
    answer: null,
    flagged: false,
    note: null,
    answeredAt: null,
    ...overrides,
  };
}

const none: ReadonlySet<string> = new Set();

describe('hasAnswer', () => {
  it('counts any non-blank answer', () => {
    expect(hasAnswer({ answer: '42' })).toBe(true);
    expect(hasAnswer({ answer: '  kubectl get pods \n' })).toBe(true);
  });

  it('does not count a missing, empty or whitespace-only answer', () => {
    expect(hasAnswer({ answer: null })).toBe(false);
    expect(hasAnswer({ answer: '' })).toBe(false);
    expect(hasAnswer({ answer: ' \n\t ' })).toBe(false);
  });
});

describe('taskStatus', () => {
  it('a task with an answer box is answered once it has an answer, whether visited or not', () => {
    const empty = question(0, { answerable: true });
    const filled = question(0, { answerable: true, answer: 'etcd-0' });
    expect(taskStatus(empty, new Set(['q1']))).toEqual({
      answered: false,
      flagged: false,
      visited: true,
    });
    expect(taskStatus(filled, none)).toEqual({ answered: true, flagged: false, visited: false });
  });

  it('a task with an answer box is not answered by visiting it, nor by a blank answer', () => {
    expect(
      taskStatus(question(0, { answerable: true, answer: '   ' }), new Set(['q1'])).answered,
    ).toBe(false);
  });

  it('a task solved on the cluster counts as answered once opened', () => {
    const q = question(2);
    expect(taskStatus(q, none)).toEqual({ answered: false, flagged: false, visited: false });
    expect(taskStatus(q, new Set(['q3']))).toEqual({
      answered: true,
      flagged: false,
      visited: true,
    });
    // Another task's visit does not count.
    expect(taskStatus(q, new Set(['q1', 'q2'])).visited).toBe(false);
  });

  it('carries the review flag', () => {
    expect(taskStatus(question(0, { flagged: true }), none).flagged).toBe(true);
  });
});

describe('describeTask', () => {
  it('names the task by its 1-based number and its state', () => {
    expect(describeTask(0, { answered: false, flagged: false, visited: false })).toBe(
      'Task 1: not visited',
    );
    expect(describeTask(4, { answered: false, flagged: false, visited: true })).toBe(
      'Task 5: visited',
    );
    expect(describeTask(2, { answered: true, flagged: true, visited: true })).toBe(
      'Task 3: answered, flagged for review',
    );
    expect(describeTask(6, { answered: false, flagged: true, visited: false })).toBe(
      'Task 7: not visited, flagged for review',
    );
  });
});

describe('submitSummary', () => {
  it('lists empty answer boxes and flagged tasks, in task order', () => {
    const questions = [
      question(0, { answerable: true, answer: 'v1.31' }),
      question(1, { answerable: true, answer: null, flagged: true }),
      question(2), // solved on the cluster: there is nothing to check from here
      question(3, { flagged: true }),
      question(4, { answerable: true, answer: ' ' }),
    ];
    const { unanswered, flagged } = submitSummary(questions);
    expect(unanswered.map((q) => q.position)).toEqual([1, 4]);
    expect(flagged.map((q) => q.position)).toEqual([1, 3]);
  });

  it('lists nothing when every answer box is filled and nothing is flagged', () => {
    const questions = [question(0, { answerable: true, answer: 'x' }), question(1)];
    expect(submitSummary(questions)).toEqual({ unanswered: [], flagged: [] });
  });

  it('returns the questions themselves, so the dialog can link to them', () => {
    const q = question(0, { answerable: true });
    expect(submitSummary([q]).unanswered[0]).toBe(q);
  });
});

describe('totalPoints', () => {
  it('adds the weights', () => {
    expect(totalPoints([question(0, { weight: 4 }), question(1, { weight: 7 })])).toBe(11);
    expect(totalPoints([])).toBe(0);
  });
});
