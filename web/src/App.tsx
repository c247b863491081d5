import { useEffect } from 'preact/hooks';
import { TopBar } from './components/TopBar.js';
import { BriefingScreen } from './screens/Briefing.js';
import { ConsoleScreen } from './screens/Console.js';
import { ResultsScreen } from './screens/Results.js';
import { SignInScreen } from './screens/SignIn.js';
import { isTerminalTarget, isTypingTarget, shortcutFor } from './shortcuts.js';
import { boot, bootError, currentIndex, editQuestion, goTo, screen, session } from './store.js';
import { openDialog } from './ui.js';

export function App() {
  const current = screen.value;

  useEffect(() => {
    document.addEventListener('keydown', onShortcut);
    return () => document.removeEventListener('keydown', onShortcut);
  }, []);

  const examTitle = session.value?.examTitle;
  useEffect(() => {
    document.title = examTitle ? `${examTitle} · CKA mock exam` : 'CKA mock exam';
  }, [examTitle]);

  // A new screen starts at its top, and so does reading it with a screen reader.
  useEffect(() => {
    window.scrollTo(0, 0);
    document.getElementById('main')?.focus({ preventScroll: true });
  }, [current]);

  return (
    <div class={`app app--${current}`}>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <TopBar />
      <Screen />
    </div>
  );
}

function Screen() {
  switch (screen.value) {
    case 'loading':
      return <Loading />;
    case 'signin':
      return <SignInScreen />;
    case 'briefing':
      return <BriefingScreen />;
    case 'console':
      return <ConsoleScreen />;
    case 'results':
      return <ResultsScreen />;
  }
}

function Loading() {
  const error = bootError.value;
  return (
    <main id="main" class="page page--narrow" tabIndex={-1}>
      {error ? (
        <div class="card" role="alert">
          <h1>Cannot reach the exam</h1>
          <p>{error}</p>
          <button type="button" class="btn btn--primary" onClick={() => void boot()}>
            Try again
          </button>
        </div>
      ) : (
        <p class="muted" role="status">
          Loading…
        </p>
      )}
    </main>
  );
}

function onShortcut(event: KeyboardEvent): void {
  // A modal dialog owns the keyboard while it is open.
  if (openDialog.value !== null || event.defaultPrevented || isTerminalTarget(event.target)) return;
  const action = shortcutFor(event, isTypingTarget(event.target));
  if (!action) return;
  if (action.kind === 'help') {
    event.preventDefault();
    openDialog.value = 'help';
    return;
  }
  const current = session.value;
  if (screen.value !== 'console' || !current) return;
  // Alt+Arrow is also the browser's Back/Forward: never let it leave the exam.
  event.preventDefault();
  const index = currentIndex.value;
  const question = current.questions[index];
  switch (action.kind) {
    case 'next':
      goTo(index + 1);
      break;
    case 'previous':
      goTo(index - 1);
      break;
    case 'goto':
      if (action.index < current.questions.length) goTo(action.index);
      break;
    case 'flag':
      if (question) editQuestion(question.questionId, { flagged: !question.flagged }, true);
      break;
    case 'note':
      document.getElementById('task-note')?.focus();
      break;
  }
}
