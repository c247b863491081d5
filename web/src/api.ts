/**
 * The engine's candidate API: types of what it returns and one fetch wrapper.
 * Authentication is the engine's HttpOnly cookie, sent because every request
 * is same-origin; this module never sees a token.
 */

export type SessionState =
  | 'provisioning'
  | 'ready'
  | 'active'
  | 'submitted'
  | 'expired'
  | 'grading'
  | 'graded'
  | 'grading_failed'
  | 'provisioning_failed';

export type SetupStatus = 'pending' | 'applied' | 'failed';

export interface ExamSummary {
  id: string;
  title: string;
  description: string;
  durationMinutes: number;
  passPercent: number;
  open: boolean;
  questionCount: number;
}

export interface QuestionView {
  position: number;
  questionId: string;
  title: string;
  domain: string;
  domainName: string;
  weight: number;
  cluster: string;
  task: string;
  taskHtml: string;
  answerable: boolean;
  setupStatus: SetupStatus;
  setupMessage: string | null;
  answer: string | null;
  flagged: boolean;
  note: string | null;
  answeredAt: string | null;
}

export interface SessionView {
  id: string;
  examId: string;
  examTitle: string;
  candidateName: string;
  state: SessionState;
  failureReason: string | null;
  durationSeconds: number;
  passPercent: number;
  createdAt: string;
  startedAt: string | null;
  deadline: string | null;
  endedAt: string | null;
  remainingSeconds: number | null;
  serverTime: string;
  notepad: string | null;
  readyUntil: string | null;
  /** shared: namespaces on a shared cluster; dedicated: clusters of their own, reached through the terminal only. */
  environment: 'shared' | 'dedicated';
  /** A dedicated session waiting for room on the machine: its place in the queue (1 = next). */
  queuePosition: number | null;
  questions: QuestionView[];
}

/** The `state` event of the session's event stream. */
export interface StateEvent {
  state: SessionState;
  deadline: string | null;
  serverTime: string;
  questions: { questionId: string; setupStatus: SetupStatus; setupMessage: string | null }[];
}

/** What a candidate may change on one task; absent fields are left as they are. */
export type AnswerFields = {
  answer?: string | null;
  flagged?: boolean;
  note?: string | null;
};

export type CheckStatus = 'passed' | 'failed' | 'skipped' | 'error';
export type TaskOutcome = 'full' | 'partial' | 'zero' | 'incomplete';

export interface CheckReport {
  id: string;
  kind: string;
  description: string;
  status: CheckStatus;
  pointsAwarded: number;
  pointsPossible: number;
  message: string;
  hint?: string;
}

export interface TaskReport {
  position: number;
  questionId: string;
  title: string;
  domain: string;
  domainName: string;
  pointsAwarded: number;
  pointsPossible: number;
  outcome: TaskOutcome;
  answer: string | null;
  checks: CheckReport[];
  solution?: { explanation: string; explanationHtml: string; commands: string[] };
}

export interface DomainReport {
  domain: string;
  domainName: string;
  pointsAwarded: number;
  pointsPossible: number;
  percent: number;
}

export interface SessionReport {
  sessionId: string;
  examTitle: string;
  candidateName: string | null;
  state: string;
  timeUsedSeconds: number | null;
  durationSeconds: number;
  complete: boolean;
  incompleteNote: string | null;
  pointsAwarded: number;
  pointsPossible: number;
  percent: number;
  passPercent: number;
  passed: boolean | null;
  domains: DomainReport[];
  tasks: TaskReport[];
}

/** The engine answered with an error (`{ code, message, details }`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown>,
    /** From Retry-After (or details.retryAfterSeconds) on 429 and 503. */
    readonly retryAfterSeconds: number | null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The request never got an answer: offline, or the engine is unreachable. */
export class NetworkError extends Error {
  constructor(cause: unknown) {
    super('The exam server could not be reached', { cause });
    this.name = 'NetworkError';
  }
}

/** One request/response pair, for the clock offset and the connection state. */
export interface Exchange {
  sentAt: number;
  receivedAt: number;
  /** Milliseconds since the epoch by the server's clock, or null when unknown. */
  serverTime: number | null;
  /** How coarse serverTime is: the Date header only has whole seconds. */
  resolutionMs: number;
}

type ExchangeListener = (exchange: Exchange | null) => void;
const listeners = new Set<ExchangeListener>();

/** Called after every request: with the exchange when the engine answered, null when unreachable. */
export function onExchange(listener: ExchangeListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function notify(exchange: Exchange | null): void {
  for (const listener of listeners) listener(exchange);
}

/** Seconds to wait from a Retry-After header: delta-seconds or an HTTP date. */
export function parseRetryAfter(header: string | null, serverNowMs: number): number | null {
  if (!header) return null;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - serverNowMs) / 1000));
}

function serverTimeOf(body: unknown): number | null {
  if (typeof body !== 'object' || body === null) return null;
  const record = body as { serverTime?: unknown; session?: { serverTime?: unknown } };
  const iso = record.serverTime ?? record.session?.serverTime;
  if (typeof iso !== 'string') return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
}

async function readBody(response: Response): Promise<unknown> {
  if (response.status === 204) return null;
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function errorFrom(response: Response, body: unknown, serverNow: number): ApiError {
  const record = (typeof body === 'object' && body !== null ? body : {}) as {
    code?: unknown;
    message?: unknown;
    details?: unknown;
  };
  const details =
    typeof record.details === 'object' && record.details !== null
      ? (record.details as Record<string, unknown>)
      : {};
  const fromDetails = details.retryAfterSeconds;
  const retryAfter =
    parseRetryAfter(response.headers.get('retry-after'), serverNow) ??
    (typeof fromDetails === 'number' ? fromDetails : null);
  return new ApiError(
    response.status,
    typeof record.code === 'string' ? record.code : `HTTP_${response.status}`,
    typeof record.message === 'string' && record.message
      ? record.message
      : `The server answered ${response.status} ${response.statusText}`.trim(),
    details,
    retryAfter,
  );
}

interface RequestOptions {
  /** Lets a save finish while the page unloads. */
  keepalive?: boolean;
}

async function request<T>(
  method: string,
  path: string,
  body?: unknown,
  options: RequestOptions = {},
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const sentAt = Date.now();
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      keepalive: options.keepalive,
    });
  } catch (err) {
    notify(null);
    throw new NetworkError(err);
  }
  // A gateway that cannot reach the engine is, for the candidate, the same as no network.
  if (response.status === 502 || response.status === 504) {
    notify(null);
    throw new NetworkError(new Error(`Gateway answered ${response.status}`));
  }
  const receivedAt = Date.now();
  const parsed = await readBody(response).catch(() => null);
  const fromBody = serverTimeOf(parsed);
  const dateHeader = Date.parse(response.headers.get('date') ?? '');
  const serverTime = fromBody ?? (Number.isNaN(dateHeader) ? null : dateHeader);
  notify({ sentAt, receivedAt, serverTime, resolutionMs: fromBody === null ? 1000 : 0 });
  if (!response.ok) throw errorFrom(response, parsed, serverTime ?? receivedAt);
  return parsed as T;
}

const ME = '/api/sessions/me';

export const KUBECONFIG_URL = `${ME}/kubeconfig`;
export const REPORT_HTML_URL = `${ME}/report.html`;
export const EVENTS_URL = `${ME}/events`;

/** Whether this engine runs shells for the browser terminal, and if not, why. */
export interface TerminalAvailability {
  available: boolean;
  reason?: string;
}

export const api = {
  exams: () => request<ExamSummary[]>('GET', '/api/exams'),
  startWithInvitation: (invitationCode: string) =>
    request<{ session: SessionView }>('POST', '/api/sessions', { invitationCode }),
  startOpenExam: (examId: string, candidateName: string) =>
    request<{ session: SessionView }>('POST', '/api/sessions', { examId, candidateName }),
  me: () => request<SessionView>('GET', ME),
  begin: () => request<SessionView>('POST', `${ME}/begin`),
  saveAnswer: (questionId: string, fields: AnswerFields, options?: RequestOptions) =>
    request<QuestionView>(
      'PUT',
      `${ME}/answers/${encodeURIComponent(questionId)}`,
      fields,
      options,
    ),
  saveNotepad: (notepad: string, options?: RequestOptions) =>
    request<{ notepad: string; savedAt: string }>('PUT', `${ME}/notepad`, { notepad }, options),
  submit: () => request<SessionView>('POST', `${ME}/submit`),
  leave: () => request<null>('POST', `${ME}/leave`),
  report: () => request<SessionReport>('GET', `${ME}/report`),
  terminal: () => request<TerminalAvailability>('GET', `${ME}/terminal`),
};
