import type { QuestionView } from '../api.js';
import { formatPoints } from '../format.js';
import { editQuestion, goTo } from '../store.js';
import { CopyButton } from './CopyButton.js';
import { ArrowLeftIcon, ArrowRightIcon, FlagIcon } from './Icons.js';
import { RichText } from './RichText.js';

const ANSWER_MAX = 20_000;
const NOTE_MAX = 5_000;

interface TaskPanelProps {
  question: QuestionView;
  count: number;
  locked: boolean;
}

/** One task: what to do, on which cluster, and the candidate's answer, note and flag. */
export function TaskPanel({ question, count, locked }: TaskPanelProps) {
  const { questionId, position } = question;
  const useContext = `kubectl config use-context ${question.cluster}`;

  return (
    <section class="task" id="task-panel" aria-labelledby="task-title">
      <div class="task__header">
        <p class="task__position">
          Task {position + 1} of {count}
        </p>
        <button
          type="button"
          class={`btn btn--small flag-toggle${question.flagged ? ' flag-toggle--on' : ''}`}
          aria-pressed={question.flagged}
          aria-keyshortcuts="Alt+F"
          data-testid="flag-toggle"
          disabled={locked}
          onClick={() => editQuestion(questionId, { flagged: !question.flagged }, true)}
        >
          <FlagIcon filled={question.flagged} />
          {question.flagged ? 'Flagged for review' : 'Flag for review'}
        </button>
      </div>
      <h1 id="task-title" class="task__title" data-testid="task-title">
        {question.title}
      </h1>
      <p class="task__meta">
        <span class="badge badge--points" data-testid="task-points">
          {formatPoints(question.weight)}
        </span>
        <span class="badge" data-testid="task-domain">
          {question.domainName}
        </span>
      </p>

      <div class="target">
        <p class="target__label">Work on cluster {question.cluster}: first run</p>
        <div class="command command--target">
          <code>{useContext}</code>
          <CopyButton
            text={useContext}
            what={`the command ${useContext}`}
            testId="task-context-copy"
          />
        </div>
      </div>

      {question.setupStatus === 'failed' && (
        <p class="notice notice--danger" role="note">
          This task's setup failed{question.setupMessage ? `: ${question.setupMessage}` : '.'} Tell
          your trainer; the task may not be gradable.
        </p>
      )}

      <RichText key={questionId} html={question.taskHtml} testId="task-text" class="task__text" />

      {question.answerable && (
        <div class="field">
          <label for="task-answer" class="field__label">
            Your answer
          </label>
          <textarea
            id="task-answer"
            class="field__input field__input--mono"
            rows={4}
            maxLength={ANSWER_MAX}
            spellcheck={false}
            data-testid="task-answer"
            disabled={locked}
            value={question.answer ?? ''}
            onInput={(event) => editQuestion(questionId, { answer: event.currentTarget.value })}
          />
        </div>
      )}

      <div class="field">
        <label for="task-note" class="field__label">
          Your note for this task <span class="field__hint">(not graded)</span>
        </label>
        <textarea
          id="task-note"
          class="field__input"
          rows={3}
          maxLength={NOTE_MAX}
          aria-keyshortcuts="Alt+N"
          data-testid="task-note"
          disabled={locked}
          value={question.note ?? ''}
          onInput={(event) => editQuestion(questionId, { note: event.currentTarget.value })}
        />
      </div>

      <div class="task__pager">
        <button
          type="button"
          class="btn"
          data-testid="task-previous"
          aria-keyshortcuts="Alt+ArrowLeft"
          disabled={position === 0}
          onClick={() => goTo(position - 1)}
        >
          <ArrowLeftIcon />
          Previous
        </button>
        <button
          type="button"
          class="btn"
          data-testid="task-next"
          aria-keyshortcuts="Alt+ArrowRight"
          disabled={position === count - 1}
          onClick={() => goTo(position + 1)}
        >
          Next
          <ArrowRightIcon />
        </button>
      </div>
    </section>
  );
}
