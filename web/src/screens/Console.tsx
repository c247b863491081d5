import { useEffect, useRef } from 'preact/hooks';
import type { SessionView } from '../api.js';
import { Notepad } from '../components/Notepad.js';
import { SplitPane } from '../components/SplitPane.js';
import { TaskPanel } from '../components/TaskPanel.js';
import { TerminalPane } from '../components/TerminalPane.js';
import { currentIndex, locked, markVisited, session, timeUp } from '../store.js';

/**
 * The exam itself: the task | terminal split. It stays on screen, read-only,
 * from the deadline (or the submission) until the results are in.
 */
export function ConsoleScreen() {
  const current = session.value;
  const isLocked = locked.value;
  const index = Math.min(currentIndex.value, (current?.questions.length ?? 1) - 1);
  const question = current?.questions[Math.max(0, index)];

  const scroller = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (question && !isLocked) markVisited(question.questionId);
  }, [question?.questionId, isLocked]);

  useEffect(() => {
    scroller.current?.scrollTo(0, 0);
  }, [question?.questionId]);

  if (!current || !question) return null;

  return (
    <main id="main" tabIndex={-1} class="console">
      {isLocked && <LockedBanner session={current} timeUp={timeUp.value} />}
      <SplitPane
        leftId="task-column"
        left={
          <div class="task-column" id="task-column">
            <div class="task-column__scroll" ref={scroller}>
              <TaskPanel question={question} count={current.questions.length} locked={isLocked} />
            </div>
            <Notepad text={current.notepad ?? ''} locked={isLocked} />
          </div>
        }
        right={<TerminalPane locked={isLocked} />}
      />
    </main>
  );
}

/** Why nothing can be changed any more, and what happens next. */
function LockedBanner({
  session: current,
  timeUp: clientTimeUp,
}: {
  session: SessionView;
  timeUp: boolean;
}) {
  const endedEarly =
    current.endedAt !== null &&
    current.deadline !== null &&
    Date.parse(current.endedAt) < Date.parse(current.deadline) - 1000;
  const submitted = current.state === 'submitted' || (current.state === 'grading' && endedEarly);
  const title = submitted ? 'Submitted — grading…' : 'Time is up — grading has started';
  return (
    <div class="locked-banner" role="status" data-testid="locked-banner">
      <span class="spinner" aria-hidden="true" />
      <div>
        <p class="locked-banner__title">{title}</p>
        <p class="locked-banner__text">
          {clientTimeUp
            ? 'Your work up to the deadline is being saved. Nothing can be changed any more.'
            : 'Nothing can be changed any more. Your results appear here as soon as grading finishes.'}
        </p>
      </div>
    </div>
  );
}
