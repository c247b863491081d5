import { useEffect, useState } from 'preact/hooks';
import { api, type ExamSummary } from '../api.js';
import { describeError } from '../errors.js';
import { formatDuration, plural } from '../format.js';
import { signIn, signedOutNotice } from '../store.js';

/**
 * Sign in with an invitation code from a trainer, or start an open exam under
 * a name. The same code again resumes its session until it is graded.
 */
export function SignInScreen() {
  const [code, setCode] = useState('');
  const [exams, setExams] = useState<ExamSummary[] | null>(null);
  const [examsFailed, setExamsFailed] = useState(false);
  const [examId, setExamId] = useState('');
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api
      .exams()
      .then((list) => {
        const open = list.filter((exam) => exam.open);
        setExams(open);
        if (open.length > 0) setExamId(open[0].id);
      })
      .catch(() => setExamsFailed(true));
  }, []);

  const usingCode = code.trim() !== '';
  const exam = exams?.find((e) => e.id === examId);

  const onSubmit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    if (!usingCode && !exam) {
      setError('Enter your invitation code, or choose an open exam.');
      return;
    }
    if (!usingCode && name.trim() === '') {
      setError('Enter your name: it appears on your report.');
      return;
    }
    setBusy(true);
    try {
      await signIn(
        usingCode ? { invitationCode: code.trim() } : { examId, candidateName: name.trim() },
      );
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  };

  return (
    <main id="main" tabIndex={-1} class="page page--narrow">
      <div class="card signin">
        <h1 class="signin__title">Sign in to your exam</h1>
        <p class="muted">
          A timed, hands-on Certified Kubernetes Administrator mock exam, graded on live clusters.
        </p>
        {signedOutNotice.value && (
          <p class="notice notice--warning" role="status">
            {signedOutNotice.value}
          </p>
        )}
        <form class="signin__form" onSubmit={(event) => void onSubmit(event)} noValidate>
          <div class="field">
            <label for="signin-code" class="field__label">
              Invitation code
            </label>
            <input
              id="signin-code"
              class="field__input field__input--mono"
              type="text"
              autocomplete="off"
              autocapitalize="off"
              spellcheck={false}
              placeholder="cki_…"
              aria-describedby="signin-code-hint"
              data-testid="signin-code"
              value={code}
              onInput={(event) => setCode(event.currentTarget.value)}
            />
            <p id="signin-code-hint" class="field__hint">
              From your trainer. Entering it again later brings you back to your exam.
            </p>
          </div>

          <div class="divider">
            <span>or practise with an open exam</span>
          </div>

          <fieldset class="signin__open" disabled={usingCode}>
            <legend class="visually-hidden">Open exam</legend>
            {exams === null && !examsFailed && <p class="muted">Loading open exams…</p>}
            {examsFailed && <p class="muted">The list of open exams could not be loaded.</p>}
            {exams !== null && exams.length === 0 && (
              <p class="muted">No exam is open to everyone right now.</p>
            )}
            {exams !== null && exams.length > 0 && (
              <>
                <div class="field">
                  <label for="signin-exam" class="field__label">
                    Exam
                  </label>
                  <select
                    id="signin-exam"
                    class="field__input"
                    data-testid="signin-exam-select"
                    value={examId}
                    onChange={(event) => setExamId(event.currentTarget.value)}
                  >
                    {exams.map((e) => (
                      <option key={e.id} value={e.id}>
                        {e.title}
                      </option>
                    ))}
                  </select>
                  {exam && (
                    <p class="field__hint">
                      {formatDuration(exam.durationMinutes * 60)} ·{' '}
                      {plural(exam.questionCount, 'task')} · pass mark {exam.passPercent}%
                      {exam.description && (
                        <>
                          <br />
                          {exam.description}
                        </>
                      )}
                    </p>
                  )}
                </div>
                <div class="field">
                  <label for="signin-name" class="field__label">
                    Your name
                  </label>
                  <input
                    id="signin-name"
                    class="field__input"
                    type="text"
                    autocomplete="name"
                    maxLength={200}
                    data-testid="signin-name"
                    value={name}
                    onInput={(event) => setName(event.currentTarget.value)}
                  />
                </div>
              </>
            )}
          </fieldset>
          {usingCode && exams !== null && exams.length > 0 && (
            <p class="field__hint">Clear the invitation code to choose an open exam instead.</p>
          )}

          <div role="alert" class="signin__error">
            {error && (
              <p class="form-error" data-testid="signin-error">
                {error}
              </p>
            )}
          </div>

          <button
            type="submit"
            class="btn btn--primary btn--large"
            data-testid="signin-submit"
            disabled={busy}
          >
            {busy ? 'Starting…' : usingCode ? 'Continue with this code' : 'Start the exam'}
          </button>
        </form>
        <p class="muted signin__footnote">
          Nothing starts the clock yet: you will see a briefing first, and begin when your
          environment is ready.
        </p>
      </div>
    </main>
  );
}
