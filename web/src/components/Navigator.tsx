import { describeTask, taskStatus } from '../progress.js';
import { currentIndex, goTo, locked, session, visited } from '../store.js';
import { openDialog } from '../ui.js';
import { FlagIcon } from './Icons.js';

/** Task numbers with their status, and the way to submit. */
export function Navigator() {
  const current = session.value;
  if (!current) return null;
  const seen = visited.value;
  return (
    <nav class="navigator" aria-label="Tasks" data-testid="navigator">
      <ol class="navigator__list">
        {current.questions.map((question, index) => {
          const status = taskStatus(question, seen);
          const isCurrent = index === currentIndex.value;
          const classes = [
            'nav-task',
            status.answered && 'nav-task--answered',
            status.visited && 'nav-task--visited',
            status.flagged && 'nav-task--flagged',
            isCurrent && 'nav-task--current',
          ].filter(Boolean);
          return (
            <li key={question.questionId}>
              <button
                type="button"
                class={classes.join(' ')}
                aria-label={describeTask(index, status)}
                aria-current={isCurrent ? 'step' : undefined}
                data-testid={`nav-task-${index + 1}`}
                data-answered={String(status.answered)}
                data-flagged={String(status.flagged)}
                data-visited={String(status.visited)}
                onClick={() => goTo(index)}
              >
                {index + 1}
                {status.flagged && (
                  <span class="nav-task__flag">
                    <FlagIcon filled />
                  </span>
                )}
              </button>
            </li>
          );
        })}
      </ol>
      <button
        type="button"
        class="btn btn--primary navigator__submit"
        data-testid="submit-open"
        disabled={locked.value}
        onClick={() => (openDialog.value = 'submit')}
      >
        Submit exam…
      </button>
    </nav>
  );
}
