import { saveError, saveStatus } from '../store.js';

const TEXT = {
  saved: 'Saved',
  saving: 'Saving…',
  offline: 'Offline — will save when back online',
  error: 'Not saved',
} as const;

export function SaveStatus() {
  const status = saveStatus.value;
  const error = saveError.value;
  return (
    <p
      class={`save-status save-status--${status}`}
      role="status"
      data-testid="save-status"
      data-status={status}
    >
      <span class="save-status__dot" aria-hidden="true" />
      {status === 'error' && error ? `${TEXT.error}: ${error}` : TEXT[status]}
    </p>
  );
}
