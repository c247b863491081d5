import { describe, expect, it } from '@jest/globals';
import type { QuestionView, SessionView, StateEvent } from './api.js';
import { withQuestionFields, withSavedQuestion, withStateEvent, withUnsaved } from './merge.js';

function question(position: number, overrides: Partial<QuestionView> = {}): QuestionView {
  return {
    position,
    questionId: `q${position + 1}`,
    title: `Task ${position + 1}`,
    domain: 'storage',
    domainName: 'Storage',
    weight: 5,
    cluster: 'k8s',
    task: 'Do it.',
    taskHtml: '<p>Do it.</p>',
    answerable: true,
    setupStatus: 'applied',
    setupMessage: null,
    answer: null,
    flagged: false,
    note: null,
    answeredAt: null,
    ...overrides,
  };
}

function sessionView(overrides: Partial<SessionView> = {}): SessionView {
  return {
    id: 's1',
    examId: 'cka-1',
    examTitle: 'CKA mock 1',
    candidateName: 'Ada',
    state: 'active',
    failureReason: null,
    durationSeconds: 7200,
    passPercent: 66,
    createdAt: '2030-05-01T09:00:00.000Z',
    startedAt: '2030-05-01T10:00:00.000Z',
    deadline: '2030-05-01T12:00:00.000Z',
    endedAt: null,
    remainingSeconds: 3600,
    serverTime: '2030-05-01T11:00:00.000Z',
    notepad: 'server notes',
    readyUntil: null,
    environment: 'shared',
    queuePosition: null,
    questions: [
      question(0, { answer: 'server answer', note: 'server note' }),
      question(1, { flagged: true }),
      question(2),
    ],
    ...overrides,
  };
}

/** Deep copy to check that the inputs are left alone. */
const snapshot = <T>(value: T): T => structuredClone(value);

describe('withQuestionFields', () => {
  it('changes the given fields of one task and nothing else', () => {
    const session = sessionView();
    const before = snapshot(session);
    const next = withQuestionFields(session, 'q1', { answer: 'typed' });
    expect(next.questions[0]).toEqual({ ...before.questions[0], answer: 'typed' });
    expect(next.questions[1]).toBe(session.questions[1]);
    expect(next.questions[2]).toBe(session.questions[2]);
    expect(session).toEqual(before);
  });

  it('leaves fields that are not given as they are', () => {
    const next = withQuestionFields(sessionView(), 'q1', { flagged: true });
    expect(next.questions[0]).toMatchObject({
      answer: 'server answer',
      note: 'server note',
      flagged: true,
    });
  });

  it('can clear an answer', () => {
    expect(
      withQuestionFields(sessionView(), 'q1', { answer: null }).questions[0].answer,
    ).toBeNull();
  });
});

describe('withUnsaved', () => {
  it('lays unsaved edits over a fresh server view, field by field', () => {
    const server = sessionView();
    const unsaved: Record<string, { answer?: string; flagged?: boolean }> = {
      q1: { answer: 'typed, not saved yet' },
      q2: { flagged: false },
    };
    const next = withUnsaved(server, (id) => unsaved[id], undefined);
    expect(next.questions[0]).toMatchObject({
      answer: 'typed, not saved yet',
      note: 'server note',
    });
    expect(next.questions[1].flagged).toBe(false);
    expect(next.questions[2]).toBe(server.questions[2]);
  });

  it('keeps the unsaved notepad over the server’s, and the server’s when there is none', () => {
    expect(withUnsaved(sessionView(), () => undefined, 'local notes').notepad).toBe('local notes');
    expect(withUnsaved(sessionView(), () => undefined, '').notepad).toBe('');
    expect(withUnsaved(sessionView(), () => undefined, undefined).notepad).toBe('server notes');
  });

  it('takes everything else from the server view, and leaves it unchanged', () => {
    const server = sessionView({ state: 'active', deadline: '2030-05-01T12:30:00.000Z' });
    const before = snapshot(server);
    const next = withUnsaved(server, () => ({ answer: 'x' }), 'n');
    expect(next.deadline).toBe('2030-05-01T12:30:00.000Z');
    expect(next.questions.map((q) => q.answer)).toEqual(['x', 'x', 'x']);
    expect(server).toEqual(before);
  });
});

describe('withSavedQuestion', () => {
  it('takes the saved task as the server returned it', () => {
    const session = sessionView();
    const saved = question(0, {
      answer: 'saved answer',
      note: 'server note',
      answeredAt: '2030-05-01T11:00:01.000Z',
    });
    const next = withSavedQuestion(session, saved, undefined);
    expect(next.questions[0]).toEqual(saved);
    expect(next.questions[1]).toBe(session.questions[1]);
  });

  it('keeps what was typed since the request went out over the saved value', () => {
    // The request carried "kubectl get po"; the candidate has typed on since.
    const session = withQuestionFields(sessionView(), 'q1', { answer: 'kubectl get pods -A' });
    const saved = question(0, { answer: 'kubectl get po', note: 'server note', flagged: true });
    const next = withSavedQuestion(session, saved, { answer: 'kubectl get pods -A' });
    expect(next.questions[0]).toMatchObject({ answer: 'kubectl get pods -A', flagged: true });
  });
});

describe('withStateEvent', () => {
  const event: StateEvent = {
    state: 'expired',
    deadline: '2030-05-01T11:59:00.000Z',
    serverTime: '2030-05-01T11:59:01.000Z',
    questions: [
      { questionId: 'q2', setupStatus: 'failed', setupMessage: 'namespace stuck' },
      { questionId: 'q9', setupStatus: 'applied', setupMessage: null },
    ],
  };

  it('takes state, deadline, server time and setup status from the event', () => {
    const session = sessionView();
    const next = withStateEvent(session, event);
    expect(next).toMatchObject({
      state: 'expired',
      deadline: '2030-05-01T11:59:00.000Z',
      serverTime: '2030-05-01T11:59:01.000Z',
    });
    expect(next.questions[1]).toMatchObject({
      setupStatus: 'failed',
      setupMessage: 'namespace stuck',
      flagged: true,
    });
  });

  it('keeps answers, notes, the notepad and tasks the event does not mention', () => {
    const session = sessionView();
    const before = snapshot(session);
    const next = withStateEvent(session, event);
    expect(next.questions[0]).toBe(session.questions[0]);
    expect(next.questions[0].answer).toBe('server answer');
    expect(next.notepad).toBe('server notes');
    expect(next.questions).toHaveLength(3);
    expect(session).toEqual(before);
  });

  it('takes a cleared deadline', () => {
    expect(withStateEvent(sessionView(), { ...event, deadline: null }).deadline).toBeNull();
  });
});
