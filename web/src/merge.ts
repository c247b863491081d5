import type { AnswerFields, QuestionView, SessionView, StateEvent } from './api.js';

/**
 * How server data and the candidate's unsaved edits combine: an edit the
 * server has not acknowledged is newer than anything the server says, so it
 * wins until it is saved.
 */

export function withQuestionFields(
  session: SessionView,
  questionId: string,
  fields: AnswerFields,
): SessionView {
  return {
    ...session,
    questions: session.questions.map((q) =>
      q.questionId === questionId ? { ...q, ...fields } : q,
    ),
  };
}

export function withUnsaved(
  session: SessionView,
  unsavedFor: (questionId: string) => AnswerFields | undefined,
  unsavedNotepad: string | undefined,
): SessionView {
  return {
    ...session,
    notepad: unsavedNotepad ?? session.notepad,
    questions: session.questions.map((q) => {
      const local = unsavedFor(q.questionId);
      return local ? { ...q, ...local } : q;
    }),
  };
}

/** A saved task as the server returned it, minus the fields edited again since. */
export function withSavedQuestion(
  session: SessionView,
  saved: QuestionView,
  unsaved: AnswerFields | undefined,
): SessionView {
  return {
    ...session,
    questions: session.questions.map((q) =>
      q.questionId === saved.questionId ? { ...q, ...saved, ...unsaved } : q,
    ),
  };
}

export function withStateEvent(session: SessionView, event: StateEvent): SessionView {
  const setup = new Map(event.questions.map((q) => [q.questionId, q]));
  return {
    ...session,
    state: event.state,
    deadline: event.deadline,
    serverTime: event.serverTime,
    questions: session.questions.map((q) => {
      const s = setup.get(q.questionId);
      return s ? { ...q, setupStatus: s.setupStatus, setupMessage: s.setupMessage } : q;
    }),
  };
}
