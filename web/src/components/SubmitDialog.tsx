import { useState } from 'preact/hooks';
import type { QuestionView } from '../api.js';
import { describeError } from '../errors.js';
import { plural } from '../format.js';
import { submitSummary } from '../progress.js';
import { goTo, session, submit } from '../store.js';
import { openDialog } from '../ui.js';
import { Dialog } from './Dialog.js';

/** Confirms the submission, listing what may still deserve a look. */
export function SubmitDialog() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const current = session.value;
  if (!current) return null;
  const { unanswered, flagged } = submitSummary(current.questions);
  const close = () => (openDialog.value = null);

  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await submit();
      close();
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  };

  const taskList = (questions: QuestionView[]) => (
    <ul class="task-list">
      {questions.map((q) => (
        <li key={q.questionId}>
          <button
            type="button"
            class="link-button"
            onClick={() => {
              goTo(q.position);
              close();
            }}
          >
            Task {q.position + 1}: {q.title}
          </button>
        </li>
      ))}
    </ul>
  );

  return (
    <Dialog
      title="Submit your exam?"
      testId="submit-dialog"
      onClose={close}
      actions={
        <>
          <button
            type="button"
            class="btn"
            data-autofocus
            data-testid="submit-cancel"
            onClick={close}
          >
            Keep working
          </button>
          <button
            type="button"
            class="btn btn--danger"
            data-testid="submit-confirm"
            disabled={busy}
            onClick={() => void confirm()}
          >
            {busy ? 'Submitting…' : 'Submit and end the exam'}
          </button>
        </>
      }
    >
      <p>
        Submitting ends your exam at once: the clusters are graded as they are now and you cannot
        change anything afterwards.
      </p>
      {unanswered.length > 0 ? (
        <section class="dialog__section" aria-labelledby="unanswered-heading">
          <h3 id="unanswered-heading" class="dialog__subtitle">
            {plural(unanswered.length, 'task')} without an answer
          </h3>
          {taskList(unanswered)}
        </section>
      ) : (
        <p>Every task with an answer box has an answer.</p>
      )}
      {flagged.length > 0 && (
        <section class="dialog__section" aria-labelledby="flagged-heading">
          <h3 id="flagged-heading" class="dialog__subtitle">
            {plural(flagged.length, 'task')} flagged for review
          </h3>
          {taskList(flagged)}
        </section>
      )}
      <p class="muted">
        Tasks solved on the cluster are graded from the cluster, not from this list.
      </p>
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
    </Dialog>
  );
}
