import { useState } from 'preact/hooks';
import { describeError } from '../errors.js';
import { leave } from '../store.js';
import { openDialog } from '../ui.js';
import { Dialog } from './Dialog.js';

/** Confirms leaving while the clock runs: the exam goes on without the candidate. */
export function LeaveDialog() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const close = () => (openDialog.value = null);

  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await leave();
      close();
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  };

  return (
    <Dialog
      title="Leave the exam?"
      testId="leave-dialog"
      onClose={close}
      actions={
        <>
          <button type="button" class="btn" data-autofocus onClick={close}>
            Stay
          </button>
          <button
            type="button"
            class="btn btn--danger"
            data-testid="leave-confirm"
            disabled={busy}
            onClick={() => void confirm()}
          >
            {busy ? 'Leaving…' : 'Leave'}
          </button>
        </>
      }
    >
      <p>
        The clock keeps running while you are away, and your work is graded at the deadline. This
        browser signs out: to come back, sign in again with your invitation code (an open exam
        started without a code cannot be resumed).
      </p>
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
    </Dialog>
  );
}
