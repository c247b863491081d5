import { URGENT_MS, formatRemaining } from '../clock.js';
import { remaining, session, timerAlert } from '../store.js';

/** The countdown, from the server's deadline and clock; red under five minutes. */
export function Timer() {
  const left = remaining.value;
  if (left === null) return null;
  if (session.value?.state !== 'active') {
    return (
      <div class="timer">
        <span class="timer__label">Exam ended</span>
      </div>
    );
  }
  const urgent = left < URGENT_MS;
  return (
    <div class={`timer${urgent ? ' timer--urgent' : ''}`}>
      <span class="timer__label">{left === 0 ? 'Time is up' : 'Time left'}</span>
      <span
        class="timer__value"
        role="timer"
        data-testid="timer"
        data-remaining-seconds={Math.ceil(left / 1000)}
      >
        {formatRemaining(left)}
      </span>
    </div>
  );
}

/**
 * The 30, 15 and 5 minute warnings. The live region is always rendered, so
 * screen readers announce the words as they appear.
 */
export function TimerAlert() {
  const alert = timerAlert.value;
  return (
    <div class="timer-alert-region" aria-live="assertive" aria-atomic="true">
      {alert !== null && (
        <p class="timer-alert" data-testid="timer-alert">
          {alert.minutes} minutes left
        </p>
      )}
    </div>
  );
}
