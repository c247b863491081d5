import { useState } from 'preact/hooks';
import type { SessionView, SetupStatus } from '../api.js';
import { ShortcutTable } from '../components/ShortcutTable.js';
import { describeError } from '../errors.js';
import { formatDuration, formatIn, formatPoints, formatWallTime, plural } from '../format.js';
import { totalPoints } from '../progress.js';
import { begin, clock, leave, serverNow, session } from '../store.js';
import { TERMINAL_SHORTCUTS } from '../terminal-keys.js';

const SETUP_TEXT: Record<SetupStatus, string> = {
  pending: 'Preparing…',
  applied: 'Ready',
  failed: 'Failed',
};

const ALLOWED_DOCS = [
  { href: 'https://kubernetes.io/docs/', label: 'kubernetes.io/docs' },
  { href: 'https://kubernetes.io/blog/', label: 'kubernetes.io/blog' },
  { href: 'https://helm.sh/docs/', label: 'helm.sh/docs' },
  { href: 'https://github.com/kubernetes', label: 'github.com/kubernetes' },
];

/**
 * Before the clock starts: what the exam is, how it works, and the
 * environment being prepared. Task titles stay hidden until Begin, as on the
 * real exam, so no one gets thinking time before the clock runs.
 */
export function BriefingScreen() {
  const current = session.value;
  if (!current) return null;
  const questions = current.questions;
  const applied = questions.filter((q) => q.setupStatus === 'applied').length;
  const failed = current.state === 'provisioning_failed';
  const dedicated = current.environment === 'dedicated';

  return (
    <main id="main" tabIndex={-1} class="page" data-testid="briefing">
      <div class="page__inner">
        <p class="eyebrow">Exam briefing</p>
        <h1 class="page__title">{current.examTitle}</h1>
        <p class="lead">
          Welcome, {current.candidateName}. Read this while your environment is prepared.
        </p>
        <ul class="facts">
          <li>
            <span class="facts__label">Duration</span>
            <span class="facts__value">{formatDuration(current.durationSeconds)}</span>
          </li>
          <li>
            <span class="facts__label">Pass mark</span>
            <span class="facts__value">{current.passPercent}%</span>
          </li>
          <li>
            <span class="facts__label">Tasks</span>
            <span class="facts__value">{questions.length}</span>
          </li>
          <li>
            <span class="facts__label">Total</span>
            <span class="facts__value">{formatPoints(totalPoints(questions))}</span>
          </li>
        </ul>

        {failed && <ProvisioningFailed reason={current.failureReason} />}

        <div class="briefing">
          <div class="briefing__main">
            <section class="card" aria-labelledby="how-heading">
              <h2 id="how-heading">How the exam works</h2>
              <ul class="bullets">
                <li>
                  Each task is done on a Kubernetes cluster. The task names its cluster and the
                  command to switch to it, <code>{'kubectl config use-context <cluster>'}</code>:
                  run it first, every time.
                </li>
                {dedicated && (
                  <li data-testid="briefing-dedicated">
                    The clusters are your own: you are cluster-admin, and{' '}
                    <code>{'ssh <node>'}</code> opens a root shell on a node of the current
                    context's cluster (<code>exit</code> comes back). Work only in the terminal: the
                    clusters are not reachable from anywhere else, and are locked when the exam
                    ends.
                  </li>
                )}
                <li>
                  The right-hand pane is your terminal: a shell with <code>kubectl</code> (alias{' '}
                  <code>k</code>), completion and vim, which keeps running when you reload the page.
                  Copy with <kbd>Ctrl</kbd> + <kbd>Shift</kbd> + <kbd>C</kbd>, paste with{' '}
                  <kbd>Ctrl</kbd> + <kbd>Shift</kbd> + <kbd>V</kbd>, or right-click.
                  {!dedicated && (
                    <>
                      {' '}
                      Where this server runs no terminal, the pane offers the session's kubeconfig
                      for your own <code>kubectl</code>.
                    </>
                  )}
                </li>
                <li>
                  Some tasks ask for a written answer and have an answer box; the others are graded
                  from the state of the cluster when the exam ends.
                </li>
                <li>
                  Everything you type is saved as you go. Flag tasks to come back to them; the
                  navigator at the top shows what you have visited, answered and flagged.
                </li>
                <li>
                  You are warned at 30, 15 and 5 minutes left. When time is up the exam ends and is
                  graded, whether or not you submitted.
                </li>
              </ul>
              <h3>Documentation you may use</h3>
              <ul class="doc-links">
                {ALLOWED_DOCS.map((doc) => (
                  <li key={doc.href}>
                    <a href={doc.href} target="_blank" rel="noopener noreferrer">
                      {doc.label}
                    </a>
                  </li>
                ))}
              </ul>
            </section>
            <section class="card" aria-labelledby="keys-heading">
              <h2 id="keys-heading">Keyboard shortcuts</h2>
              <ShortcutTable caption="Keyboard shortcuts" />
              <h3 class="shortcuts__subtitle">In the terminal</h3>
              <ShortcutTable caption="Terminal shortcuts" rows={TERMINAL_SHORTCUTS} />
            </section>
          </div>

          <aside class="briefing__side" aria-label="Environment and start">
            {!failed && <BeginCard session={current} />}
            <section class="card" aria-labelledby="setup-heading">
              <h2 id="setup-heading">Environment</h2>
              <label class="progress-label" for="setup-progress">
                {applied} of {plural(questions.length, 'task')} ready
              </label>
              <progress
                id="setup-progress"
                class="progress"
                max={questions.length}
                value={applied}
              />
              <ol class="setup-list">
                {questions.map((q) => (
                  <li
                    key={q.questionId}
                    class={`setup-item setup-item--${q.setupStatus}`}
                    data-testid={`setup-item-${q.position + 1}`}
                    data-status={q.setupStatus}
                  >
                    <span class="setup-item__name">Task {q.position + 1}</span>
                    <span class="setup-item__status">
                      <span class="status-dot" aria-hidden="true" />
                      {failed && q.setupStatus === 'pending'
                        ? 'Stopped'
                        : SETUP_TEXT[q.setupStatus]}
                    </span>
                    {q.setupStatus === 'failed' && q.setupMessage && (
                      <span class="setup-item__message">{q.setupMessage}</span>
                    )}
                  </li>
                ))}
              </ol>
            </section>
          </aside>
        </div>
      </div>
    </main>
  );
}

function BeginCard({ session: current }: { session: SessionView }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ready = current.state === 'ready';
  const readyUntil = current.readyUntil ? Date.parse(current.readyUntil) : NaN;
  const secondsLeft = Number.isNaN(readyUntil)
    ? null
    : Math.max(0, (readyUntil - serverNow.value) / 1000);

  const onBegin = async () => {
    setBusy(true);
    setError(null);
    try {
      await begin();
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  };

  return (
    <section class="card card--accent" aria-labelledby="begin-heading">
      <h2 id="begin-heading">
        {ready ? 'Your environment is ready' : 'Preparing your environment…'}
      </h2>
      <p>
        The clock starts when you press Begin, and runs for{' '}
        {formatDuration(current.durationSeconds)}.
      </p>
      {ready && secondsLeft !== null && (
        <p class="notice notice--warning">
          Begin by {formatWallTime(readyUntil - clock.offsetMs)} ({formatIn(secondsLeft)}), or the
          environment is released.
        </p>
      )}
      {!ready && current.queuePosition !== null && (
        <p class="notice notice--warning" data-testid="queue-position">
          Every environment on this server is in use: yours is{' '}
          {current.queuePosition === 1 ? 'next' : `number ${current.queuePosition} in the queue`}.
          It is prepared as soon as another exam ends.
        </p>
      )}
      {!ready && <p class="muted">This usually takes a minute or two. Keep this page open.</p>}
      <button
        type="button"
        class="btn btn--primary btn--large btn--block"
        data-testid="begin"
        disabled={!ready || busy}
        onClick={() => void onBegin()}
      >
        {busy ? 'Starting…' : 'Begin the exam'}
      </button>
      <div role="alert">{error && <p class="form-error">{error}</p>}</div>
    </section>
  );
}

function ProvisioningFailed({ reason }: { reason: string | null }) {
  const [error, setError] = useState<string | null>(null);
  return (
    <div class="notice notice--danger notice--block" role="alert">
      <h2>The environment could not be prepared</h2>
      <p>{reason ?? 'Something went wrong while preparing the clusters.'}</p>
      <p>Your exam has not started. Leave, and try again or ask your trainer.</p>
      <button
        type="button"
        class="btn btn--danger"
        data-testid="briefing-leave"
        onClick={() => void leave().catch((err: unknown) => setError(describeError(err)))}
      >
        Leave
      </button>
      {error && <p class="form-error">{error}</p>}
    </div>
  );
}
