import { batch, computed, effect, signal, untracked } from '@preact/signals';
import {
  ApiError,
  EVENTS_URL,
  NetworkError,
  api,
  onExchange,
  type AnswerFields,
  type SessionReport,
  type SessionState,
  type SessionView,
} from './api.js';
import { SaveQueue, type Fields, type SaveStatus } from './autosave.js';
import { browserTimers } from './backoff.js';
import {
  ServerClock,
  clockJumped,
  crossedAlert,
  remainingMs,
  sampleFromExchange,
  sampleFromPush,
} from './clock.js';
import { isUnauthenticated } from './errors.js';
import { LiveConnection } from './live.js';
import { withQuestionFields, withSavedQuestion, withStateEvent, withUnsaved } from './merge.js';
import { isNumber, isStringArray, readJson, removeKey, writeJson } from './storage.js';
import { openTabChannel, type TabChannel, type TabMessage } from './sync.js';

/**
 * The console's state and everything that changes it. Screens read the
 * signals and call the actions; the server stays the authority on the
 * session, this browser only on unsaved edits and display choices.
 */

export const clock = new ServerClock();

export const session = signal<SessionView | null>(null);
/** Until the first GET /api/sessions/me has answered. */
const booting = signal(true);
export const bootError = signal<string | null>(null);
export const report = signal<SessionReport | null>(null);
export const reportUnavailable = signal(false);
/** Why the candidate is back at sign-in without having left (shown there). */
export const signedOutNotice = signal<string | null>(null);

export const saveStatus = signal<SaveStatus>('saved');
export const saveError = signal<string | null>(null);

/** False after a request got no answer, until one does. */
const reachable = signal(true);
const browserOnline = signal(navigator.onLine);
export const online = computed(() => browserOnline.value && reachable.value);

/** The server's clock, ticking. */
export const serverNow = signal(clock.serverNow());
export const remaining = computed(() =>
  remainingMs(session.value?.deadline ?? null, serverNow.value),
);
/** The deadline has passed by the server's clock, before the server has said so. */
export const timeUp = computed(() => session.value?.state === 'active' && remaining.value === 0);
/** Nothing can be changed any more (or yet). */
export const locked = computed(() => session.value?.state !== 'active' || timeUp.value);

export const currentIndex = signal(0);
export const visited = signal<ReadonlySet<string>>(new Set());

/** The latest time alert ("15 minutes left"), with when it was raised. */
export const timerAlert = signal<{ minutes: number; at: number } | null>(null);
/** A short polite announcement for screen readers ("Copied"). */
export const announcement = signal('');

export type Screen = 'loading' | 'signin' | 'briefing' | 'console' | 'results';

const SCREEN_OF: Record<SessionState, Screen> = {
  provisioning: 'briefing',
  ready: 'briefing',
  provisioning_failed: 'briefing',
  active: 'console',
  submitted: 'console',
  expired: 'console',
  grading: 'console',
  graded: 'results',
  grading_failed: 'results',
};

export const screen = computed<Screen>(() => {
  if (booting.value) return 'loading';
  const current = session.value;
  return current ? SCREEN_OF[current.state] : 'signin';
});

const FINAL_STATES: ReadonlySet<SessionState> = new Set([
  'graded',
  'grading_failed',
  'provisioning_failed',
]);

const NOTEPAD_KEY = 'notepad';
const questionKey = (questionId: string) => `q:${questionId}`;

interface Attached {
  id: string;
  queue: SaveQueue;
  live: LiveConnection;
  channel: TabChannel;
}

let attached: Attached | null = null;

function isUnsavedRecord(value: unknown): value is Record<string, Fields> {
  return (
    typeof value === 'object' &&
    value !== null &&
    Object.values(value).every((v) => typeof v === 'object' && v !== null)
  );
}

function unsavedNotepad(queue: SaveQueue): string | undefined {
  const notepad = queue.unsavedFields(NOTEPAD_KEY)?.notepad;
  return typeof notepad === 'string' ? notepad : undefined;
}

/** Takes a session view from the server, keeping edits it has not acknowledged yet. */
function setSession(view: SessionView): void {
  // First, so that edits the ended exam can no longer take are dropped, not shown.
  if (session.value?.state !== view.state) onStateChanged(view.state);
  const queue = attached?.queue;
  session.value = queue
    ? withUnsaved(
        view,
        (id) => queue.unsavedFields(questionKey(id)) as AnswerFields | undefined,
        unsavedNotepad(queue),
      )
    : view;
}

function onStateChanged(state: SessionState): void {
  if (!attached) return;
  // Once the exam is over the server refuses edits: there is nothing left to keep.
  if (state !== 'active' && state !== 'provisioning' && state !== 'ready') {
    attached.queue.discard();
  }
  if (FINAL_STATES.has(state)) {
    attached.live.stop();
    // Navigation state is of no use once the exam is over.
    removeKey(`cka.visited.${attached.id}`);
    removeKey(`cka.current.${attached.id}`);
  }
  if (state === 'graded' || state === 'grading_failed') void loadReport();
}

function attach(view: SessionView): void {
  if (attached?.id === view.id) {
    setSession(view);
    return;
  }
  detach();
  const id = view.id;
  const unsavedKey = `cka.unsaved.${id}`;
  const queue: SaveQueue = new SaveQueue(
    {
      send: (key, fields) => sendEdit(key, fields),
      classify: (error) =>
        error instanceof NetworkError ||
        (error instanceof ApiError && (error.status >= 500 || error.status === 429))
          ? 'offline'
          : 'rejected',
      persist: (unsaved) =>
        Object.keys(unsaved).length > 0 ? writeJson(unsavedKey, unsaved) : removeKey(unsavedKey),
      onChange: () => {
        saveStatus.value = queue.status;
        saveError.value = queue.errorMessage;
      },
      onRejected: (_key, _fields, error) => {
        if (isUnauthenticated(error)) signedOut(SESSION_ENDED_ELSEWHERE);
        else void refresh();
      },
      timers: browserTimers,
      debounceMs: 600,
    },
    readJson(unsavedKey, isUnsavedRecord) ?? {},
  );
  const live = new LiveConnection({
    open: () => new EventSource(EVENTS_URL),
    poll: refresh,
    onState: (event, receivedAt) => {
      const at = Date.parse(event.serverTime);
      if (!Number.isNaN(at)) clock.observe(sampleFromPush(at, receivedAt));
      const current = session.value;
      if (!current) return;
      session.value = withStateEvent(current, event);
      if (current.state !== event.state) {
        onStateChanged(event.state);
        // The event carries no answers or times: fetch the whole view once.
        void refresh();
      }
    },
    timers: browserTimers,
    now: () => Date.now(),
  });
  attached = { id, queue, live, channel: openTabChannel(id, onTabMessage) };
  batch(() => {
    session.value = null;
    report.value = null;
    reportUnavailable.value = false;
    visited.value = new Set(readJson(`cka.visited.${id}`, isStringArray) ?? []);
    currentIndex.value = Math.max(
      0,
      Math.min(readJson(`cka.current.${id}`, isNumber) ?? 0, view.questions.length - 1),
    );
    saveStatus.value = queue.status;
    saveError.value = null;
    setSession(view);
  });
  if (!FINAL_STATES.has(view.state)) live.start();
  if (queue.hasUnsaved) void queue.flush();
}

function detach(): void {
  if (!attached) return;
  attached.queue.dispose();
  attached.live.stop();
  attached.channel.close();
  attached = null;
}

function signedOut(notice: string | null = null): void {
  detach();
  batch(() => {
    session.value = null;
    report.value = null;
    timerAlert.value = null;
    signedOutNotice.value = notice;
  });
}

/** The cookie stopped working mid-session: most often, the code was used in another browser. */
const SESSION_ENDED_ELSEWHERE =
  'You have been signed out, perhaps because your invitation code was used in another browser. Enter it again to continue here.';

async function sendEdit(key: string, fields: Fields): Promise<void> {
  const keepalive = document.visibilityState === 'hidden';
  if (key === NOTEPAD_KEY) {
    const notepad = typeof fields.notepad === 'string' ? fields.notepad : '';
    await api.saveNotepad(notepad, { keepalive });
    attached?.channel.post({ type: 'notepad-saved', notepad });
    return;
  }
  const questionId = key.slice(2);
  const saved = await api.saveAnswer(questionId, fields as AnswerFields, { keepalive });
  const current = session.value;
  if (current && attached) {
    const unsaved = attached.queue.unsavedFields(key) as AnswerFields | undefined;
    session.value = withSavedQuestion(current, saved, unsaved);
  }
  attached?.channel.post({
    type: 'question-saved',
    questionId,
    fields: { answer: saved.answer, note: saved.note, flagged: saved.flagged },
  });
}

function onTabMessage(message: TabMessage): void {
  const current = session.value;
  if (message.type === 'left') {
    signedOut('You left the exam in another tab.');
    return;
  }
  if (!current || !attached) return;
  switch (message.type) {
    case 'question-saved': {
      // What this tab is still saving is newer than what the other tab saved.
      const mine = attached.queue.unsavedFields(questionKey(message.questionId)) ?? {};
      const theirs = Object.fromEntries(
        Object.entries(message.fields).filter(([field]) => !(field in mine)),
      ) as AnswerFields;
      session.value = withQuestionFields(current, message.questionId, theirs);
      break;
    }
    case 'notepad-saved':
      if (unsavedNotepad(attached.queue) === undefined) {
        session.value = { ...current, notepad: message.notepad };
      }
      break;
    case 'session':
      if (message.session.id === current.id) setSession(message.session);
      break;
    case 'visited':
      markVisited(message.questionId, false);
      break;
  }
}

/**
 * Fetches the session again; back to sign-in if the cookie is gone. Other
 * failures are left to the next attempt (the stream, a poll, a save).
 */
async function refresh(): Promise<void> {
  try {
    attach(await api.me());
  } catch (error) {
    if (isUnauthenticated(error)) signedOut(SESSION_ENDED_ELSEWHERE);
  }
}

export async function boot(): Promise<void> {
  booting.value = true;
  bootError.value = null;
  try {
    attach(await api.me());
  } catch (error) {
    if (!isUnauthenticated(error)) {
      bootError.value =
        error instanceof NetworkError
          ? 'The exam server could not be reached.'
          : error instanceof Error
            ? error.message
            : String(error);
    }
  } finally {
    booting.value = false;
  }
}

/** Starts (or, with the same invitation code, resumes) a session; throws the API's error. */
export async function signIn(
  start: { invitationCode: string } | { examId: string; candidateName: string },
): Promise<void> {
  const { session: view } =
    'invitationCode' in start
      ? await api.startWithInvitation(start.invitationCode)
      : await api.startOpenExam(start.examId, start.candidateName);
  signedOutNotice.value = null;
  attach(view);
}

export async function begin(): Promise<void> {
  const view = await api.begin();
  attach(view);
  attached?.channel.post({ type: 'session', session: view });
}

export async function submit(): Promise<void> {
  await attached?.queue.flush();
  const view = await api.submit();
  attach(view);
  attached?.channel.post({ type: 'session', session: view });
}

export async function leave(): Promise<void> {
  try {
    await attached?.queue.flush();
    await api.leave();
  } catch (error) {
    if (!isUnauthenticated(error)) throw error;
  }
  attached?.channel.post({ type: 'left' });
  signedOut();
}

export function editQuestion(questionId: string, fields: AnswerFields, immediate = false): void {
  const current = session.value;
  if (!current || !attached || locked.value) return;
  session.value = withQuestionFields(current, questionId, fields);
  attached.queue.edit(questionKey(questionId), fields, immediate);
}

export function editNotepad(notepad: string): void {
  const current = session.value;
  if (!current || !attached || locked.value) return;
  session.value = { ...current, notepad };
  attached.queue.edit(NOTEPAD_KEY, { notepad });
}

export function goTo(index: number): void {
  const count = session.value?.questions.length ?? 0;
  if (count === 0) return;
  const next = Math.min(count - 1, Math.max(0, index));
  currentIndex.value = next;
  if (attached) writeJson(`cka.current.${attached.id}`, next);
}

export function markVisited(questionId: string, broadcast = true): void {
  if (!attached || visited.value.has(questionId)) return;
  const next = new Set(visited.value).add(questionId);
  visited.value = next;
  writeJson(`cka.visited.${attached.id}`, [...next]);
  if (broadcast) attached.channel.post({ type: 'visited', questionId });
}

export function announce(message: string): void {
  // Cleared first so that the same words twice are announced twice.
  announcement.value = '';
  setTimeout(() => (announcement.value = message), 50);
}

async function loadReport(attempt = 0): Promise<void> {
  try {
    report.value = await api.report();
    reportUnavailable.value = false;
  } catch (error) {
    // The state can change a moment before the report is stored.
    if (error instanceof ApiError && error.code === 'REPORT_NOT_READY' && attempt < 10) {
      setTimeout(() => void loadReport(attempt + 1), 3000);
    } else {
      reportUnavailable.value = true;
    }
  }
}

export function retryReport(): void {
  reportUnavailable.value = false;
  void loadReport();
}

/** Wires the store to the browser: clock, connectivity, unload. Called once. */
export function startStore(): void {
  onExchange((exchange) => {
    reachable.value = exchange !== null;
    if (!exchange) return;
    if (exchange.serverTime !== null) {
      clock.observe(
        sampleFromExchange(
          exchange.serverTime,
          exchange.sentAt,
          exchange.receivedAt,
          exchange.resolutionMs,
        ),
      );
    }
    attached?.queue.resume();
  });

  window.addEventListener('online', () => {
    browserOnline.value = true;
    attached?.queue.resume();
    if (attached) void refresh();
  });
  window.addEventListener('offline', () => (browserOnline.value = false));

  window.addEventListener('beforeunload', (event) => {
    if (session.value?.state === 'active' && !timeUp.value) event.preventDefault();
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') void attached?.queue.flush();
  });

  let last = { wall: Date.now(), monotonic: performance.now() };
  setInterval(() => {
    const now = { wall: Date.now(), monotonic: performance.now() };
    if (clockJumped(last, now)) {
      clock.reset();
      if (attached) void refresh();
    }
    last = now;
    serverNow.value = clock.serverNow();
  }, 250);

  let previousRemaining: number | null = null;
  effect(() => {
    const left = remaining.value;
    if (session.value?.state !== 'active' || left === null) {
      previousRemaining = null;
      return;
    }
    const minutes = crossedAlert(previousRemaining, left);
    previousRemaining = left;
    if (minutes === null) return;
    const at = Date.now();
    timerAlert.value = { minutes, at };
    setTimeout(() => {
      if (timerAlert.peek()?.at === at) timerAlert.value = null;
    }, 15_000);
  });

  // Waiting in line for a dedicated environment: the place changes without a
  // state change (nothing is pushed), so look now and then.
  effect(() => {
    const current = session.value;
    if (current?.state !== 'provisioning' || current.queuePosition === null) return;
    const poll = setInterval(() => void refresh(), 5000);
    return () => clearInterval(poll);
  });

  // At the deadline: send what was typed in the last moments (the server
  // decides whether it still counts), then ask until the server confirms
  // the end; the event stream usually says so first.
  effect(() => {
    if (!timeUp.value) return;
    untracked(() => {
      void attached?.queue.flush();
      void refresh();
    });
    const poll = setInterval(() => void refresh(), 5000);
    return () => clearInterval(poll);
  });
}
