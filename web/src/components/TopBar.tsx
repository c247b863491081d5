import { ZOOM_MAX, ZOOM_MIN, changeZoom, theme, toggleTheme, zoom } from '../prefs.js';
import { announcement, leave, online, screen, session, timeUp } from '../store.js';
import { openDialog } from '../ui.js';
import { HelpDialog } from './HelpDialog.js';
import { MoonIcon, SunIcon } from './Icons.js';
import { LeaveDialog } from './LeaveDialog.js';
import { Navigator } from './Navigator.js';
import { SaveStatus } from './SaveStatus.js';
import { SubmitDialog } from './SubmitDialog.js';
import { Timer, TimerAlert } from './Timer.js';

/**
 * The page header: exam title, timer and save status during the exam,
 * display controls, leave; the task navigator below it; and the dialogs they
 * open (inside the header so that everything stays within a landmark).
 */
export function TopBar() {
  const current = session.value;
  const inConsole = screen.value === 'console';
  const dark = theme.value === 'dark';

  const onLeave = () => {
    if (current?.state === 'active' && !timeUp.value) openDialog.value = 'leave';
    else void leave().catch(() => (openDialog.value = 'leave'));
  };

  return (
    <header class="topbar">
      <div class="topbar__row">
        <div class="brand">
          <span class="brand__mark" aria-hidden="true">
            CKA
          </span>
          <span class="brand__title">{current?.examTitle ?? 'CKA mock exam'}</span>
          {current && <span class="brand__candidate">{current.candidateName}</span>}
        </div>
        {inConsole && (
          <div class="topbar__status">
            <Timer />
            <SaveStatus />
          </div>
        )}
        <div class="topbar__tools">
          <div class="tool-group" role="group" aria-label="Text size">
            <button
              type="button"
              class="tool"
              data-testid="zoom-out"
              disabled={zoom.value <= ZOOM_MIN}
              onClick={() => changeZoom(-1)}
            >
              <span aria-hidden="true">A−</span>
              <span class="visually-hidden">Smaller text</span>
            </button>
            <button
              type="button"
              class="tool"
              data-testid="zoom-in"
              disabled={zoom.value >= ZOOM_MAX}
              onClick={() => changeZoom(1)}
            >
              <span aria-hidden="true">A+</span>
              <span class="visually-hidden">Larger text</span>
            </button>
          </div>
          <button
            type="button"
            class="tool"
            aria-label="Dark theme"
            aria-pressed={dark}
            data-testid="theme-toggle"
            onClick={toggleTheme}
          >
            {dark ? <SunIcon /> : <MoonIcon />}
          </button>
          <button
            type="button"
            class="tool"
            aria-keyshortcuts="?"
            data-testid="help-open"
            onClick={() => (openDialog.value = 'help')}
          >
            <span aria-hidden="true">?</span>
            <span class="visually-hidden">Keyboard shortcuts</span>
          </button>
          {current && (
            <button type="button" class="tool tool--text" data-testid="leave" onClick={onLeave}>
              Leave
            </button>
          )}
        </div>
      </div>
      {inConsole && <Navigator />}
      <TimerAlert />
      <div role="status">
        {!online.value && (
          <p class="offline-banner" data-testid="offline-banner">
            You are offline. Your work is kept in this browser and will be saved when the connection
            returns.
          </p>
        )}
      </div>
      <p class="visually-hidden" aria-live="polite">
        {announcement.value}
      </p>
      {openDialog.value === 'help' && <HelpDialog />}
      {openDialog.value === 'leave' && <LeaveDialog />}
      {openDialog.value === 'submit' && inConsole && <SubmitDialog />}
    </header>
  );
}
