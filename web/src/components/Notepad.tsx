import { notepadOpen, toggleNotepad } from '../prefs.js';
import { editNotepad } from '../store.js';

const NOTEPAD_MAX = 50_000;

/** One scratch pad for the whole exam, beside whichever task is open. */
export function Notepad({ text, locked }: { text: string; locked: boolean }) {
  const open = notepadOpen.value;
  return (
    <section class={`notepad${open ? ' notepad--open' : ''}`} aria-labelledby="notepad-heading">
      <h2 id="notepad-heading" class="notepad__heading">
        <button
          type="button"
          class="notepad__toggle"
          aria-expanded={open}
          aria-controls="notepad-body"
          onClick={toggleNotepad}
        >
          <span class="notepad__chevron" aria-hidden="true" />
          Notepad
          <span class="notepad__hint">shared by all tasks</span>
        </button>
      </h2>
      <div id="notepad-body" class="notepad__body" hidden={!open}>
        <label for="notepad" class="visually-hidden">
          Notepad
        </label>
        <textarea
          id="notepad"
          class="field__input notepad__input"
          maxLength={NOTEPAD_MAX}
          data-testid="notepad"
          disabled={locked}
          value={text}
          onInput={(event) => editNotepad(event.currentTarget.value)}
        />
      </div>
    </section>
  );
}
