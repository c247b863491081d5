import {
  REPORT_HTML_URL,
  type CheckStatus,
  type SessionReport,
  type TaskOutcome,
  type TaskReport,
} from '../api.js';
import { CopyButton } from '../components/CopyButton.js';
import { RichText } from '../components/RichText.js';
import { formatDuration, percent } from '../format.js';
import { leave, report, reportUnavailable, retryReport, session } from '../store.js';

const OUTCOME_TEXT: Record<TaskOutcome, string> = {
  full: 'Full marks',
  partial: 'Partly correct',
  zero: 'No points',
  incomplete: 'Not decided yet',
};

const CHECK_TEXT: Record<CheckStatus, string> = {
  passed: 'Passed',
  failed: 'Failed',
  skipped: 'Skipped',
  error: 'Not decided',
};

const TRAINER_REVIEW = 'Grading could not be completed; a trainer will review it.';

/**
 * The score. Grading that could not decide every check is shown as
 * incomplete: never as a zero or a fail, because it is neither.
 */
export function ResultsScreen() {
  const current = session.value;
  const result = report.value;
  if (!current) return null;
  const failed = current.state === 'grading_failed';

  return (
    <main id="main" tabIndex={-1} class="page" data-testid="results">
      <div class="page__inner">
        <p class="eyebrow">Results</p>
        <h1 class="page__title">{current.examTitle}</h1>
        <p class="lead">{current.candidateName}</p>

        {failed && !result && (
          <p class="notice notice--warning notice--block" data-testid="results-incomplete">
            {TRAINER_REVIEW}
          </p>
        )}
        {!failed && !result && !reportUnavailable.value && (
          <p class="muted" role="status">
            Loading your results…
          </p>
        )}
        {!result && reportUnavailable.value && !failed && (
          <div class="notice notice--warning notice--block" role="alert">
            <p>Your results could not be loaded.</p>
            <button type="button" class="btn" onClick={retryReport}>
              Try again
            </button>
          </div>
        )}
        {result && <Report result={result} />}

        <div class="results__footer">
          <a
            class="btn"
            href={REPORT_HTML_URL}
            target="_blank"
            rel="noopener"
            data-testid="report-html-link"
          >
            Printable report (opens in a new tab)
          </a>
          <button
            type="button"
            class="btn btn--primary"
            data-testid="results-leave"
            onClick={() => void leave().catch(() => undefined)}
          >
            Leave and sign out
          </button>
        </div>
      </div>
    </main>
  );
}

function Report({ result }: { result: SessionReport }) {
  const incomplete = !result.complete || result.passed === null;
  const verdict = incomplete ? 'Grading incomplete' : result.passed ? 'Passed' : 'Not passed';
  const tone = incomplete ? 'pending' : result.passed ? 'pass' : 'fail';

  return (
    <>
      <section class={`score score--${tone}`} aria-labelledby="score-heading">
        <h2 id="score-heading" class="visually-hidden">
          Score
        </h2>
        <p class="score__verdict" data-testid="results-passed" data-passed={String(result.passed)}>
          {verdict}
        </p>
        <p
          class={`score__percent${incomplete ? ' score__percent--pending' : ''}`}
          data-testid="results-percent"
        >
          {incomplete ? 'Not final' : percent(result.percent)}
        </p>
        <p class="score__detail">
          {incomplete
            ? `${result.pointsAwarded} of ${result.pointsPossible} points decided so far · pass mark ${result.passPercent}%`
            : `${result.pointsAwarded} of ${result.pointsPossible} points · pass mark ${result.passPercent}%`}
          {result.timeUsedSeconds !== null &&
            ` · ${formatDuration(result.timeUsedSeconds)} of ${formatDuration(result.durationSeconds)} used`}
        </p>
        {incomplete && (
          <p class="score__note">
            {result.incompleteNote ?? TRAINER_REVIEW} Until then there is no pass or fail.
          </p>
        )}
      </section>

      <section class="card" aria-labelledby="domains-heading">
        <h2 id="domains-heading">By domain</h2>
        <table class="table">
          <thead>
            <tr>
              <th scope="col">Domain</th>
              <th scope="col" class="num">
                Points
              </th>
              <th scope="col" class="num">
                Score
              </th>
            </tr>
          </thead>
          <tbody>
            {result.domains.map((d) => (
              <tr key={d.domain}>
                <th scope="row">{d.domainName}</th>
                <td class="num">
                  {d.pointsAwarded} / {d.pointsPossible}
                </td>
                <td class="num">
                  <span class="meter" aria-hidden="true">
                    <span class="meter__fill" style={{ width: `${Math.min(100, d.percent)}%` }} />
                  </span>
                  <span class="meter__value">{percent(d.percent)}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      <h2 class="section-title">By task</h2>
      {result.tasks.map((task) => (
        <TaskResult key={task.questionId} task={task} />
      ))}
    </>
  );
}

function TaskResult({ task }: { task: TaskReport }) {
  const n = task.position + 1;
  const headingId = `result-task-${n}-heading`;
  return (
    <section class="card result-task" aria-labelledby={headingId} data-testid={`result-task-${n}`}>
      <div class="result-task__header">
        <h3 id={headingId}>
          Task {n}: {task.title}
        </h3>
        <span class={`outcome outcome--${task.outcome}`} data-outcome={task.outcome}>
          {OUTCOME_TEXT[task.outcome]} · {task.pointsAwarded} / {task.pointsPossible}
        </span>
      </div>
      <p class="muted">{task.domainName}</p>
      {task.answer !== null && task.answer !== '' && (
        <div class="result-task__answer">
          <p class="field__label">Your answer</p>
          <pre>{task.answer}</pre>
        </div>
      )}
      <ul class="checks">
        {task.checks.map((check) => (
          <li
            key={check.id}
            class={`check check--${check.status}`}
            data-testid={`result-check-${n}-${check.id}`}
            data-status={check.status}
          >
            <span class="check__status">{CHECK_TEXT[check.status]}</span>
            <div class="check__body">
              <p class="check__description">{check.description}</p>
              {check.message && <p class="check__message">{check.message}</p>}
              {check.hint && check.status !== 'passed' && (
                <p class="check__hint">
                  <strong>Hint:</strong> {check.hint}
                </p>
              )}
            </div>
            <span class="check__points">
              {check.pointsAwarded} / {check.pointsPossible}
            </span>
          </li>
        ))}
      </ul>
      {task.solution && (
        <details class="solution">
          <summary>Reference solution</summary>
          <RichText html={task.solution.explanationHtml} />
          {task.solution.commands.length > 0 && (
            <ol class="solution__commands">
              {task.solution.commands.map((command, i) => (
                <li key={i} class="command command--block">
                  <pre>
                    <code>{command}</code>
                  </pre>
                  <CopyButton text={command} what={`command ${i + 1} of the solution`} />
                </li>
              ))}
            </ol>
          )}
        </details>
      )}
    </section>
  );
}
