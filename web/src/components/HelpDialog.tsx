import { TERMINAL_SHORTCUTS } from '../terminal-keys.js';
import { openDialog } from '../ui.js';
import { Dialog } from './Dialog.js';
import { FlagIcon } from './Icons.js';
import { ShortcutTable } from './ShortcutTable.js';

export function HelpDialog() {
  const close = () => (openDialog.value = null);
  return (
    <Dialog
      title="Keyboard shortcuts"
      testId="help-dialog"
      onClose={close}
      actions={
        <button type="button" class="btn btn--primary" data-autofocus onClick={close}>
          Close
        </button>
      }
    >
      <ShortcutTable caption="Keyboard shortcuts" />
      <p class="muted">
        Alt shortcuts also work while you type in an answer or a note, but not in the terminal,
        where every key goes to the shell. Browser shortcuts (Ctrl+W, Ctrl+T) still belong to the
        browser: mind them.
      </p>
      <h3 class="dialog__subtitle">In the terminal</h3>
      <ShortcutTable caption="Terminal shortcuts" rows={TERMINAL_SHORTCUTS} />
      <h3 class="dialog__subtitle">Task navigator</h3>
      <ul class="legend">
        <li>
          <span class="nav-task nav-task--answered legend__swatch" aria-hidden="true">
            1
          </span>
          Answered (or, for tasks solved on the cluster, opened)
        </li>
        <li>
          <span class="nav-task nav-task--visited legend__swatch" aria-hidden="true">
            2
          </span>
          Visited, no answer yet
        </li>
        <li>
          <span class="nav-task legend__swatch" aria-hidden="true">
            3
          </span>
          Not visited
        </li>
        <li>
          <span class="nav-task nav-task--flagged legend__swatch" aria-hidden="true">
            4
            <span class="nav-task__flag">
              <FlagIcon filled />
            </span>
          </span>
          Flagged for review
        </li>
      </ul>
    </Dialog>
  );
}
