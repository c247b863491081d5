import Handlebars from 'handlebars';

import type { CheckStatus } from './check-result.entity.js';
import { REPORT_TEMPLATE } from './report.hbs.js';
import type { SessionReport, TaskOutcome } from './report.types.js';

export interface ReportHtmlOptions {
  /** Reference solutions are shown only when the caller decides the viewer may see them. */
  showSolutions: boolean;
  /** The session's terminal recording, with the player to replay it (staff only). */
  recording?: ReportRecording;
}

export interface ReportRecording {
  /** The asciicast text; undefined when too large to embed. */
  cast?: string;
  sizeBytes: number;
  downloadPath: string;
  /** The player's built files (the web build's replay entry); undefined without a web build. */
  player?: { script: string; styles: string[] };
}

interface ReportContext extends SessionReport {
  showSolutions: boolean;
  csp: string;
  recording:
    | {
        embedded: boolean;
        castJson: string;
        script: string;
        styles: string[];
        sizeMb: string;
        downloadPath: string;
      }
    | false;
}

/** No script, no fetch: the page is inert. */
const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'";
/**
 * With the recording player: this site's script and styles only (the player
 * decodes terminals in WebAssembly, hence wasm-unsafe-eval, which allows no
 * JavaScript eval); still no fetch, frame or plugin.
 */
const PLAYER_CSP =
  "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src data:; font-src 'self' data:";

/**
 * A string as JSON that is safe inside a <script> element: no `<` (so no
 * `</script>`), and no line separators some parsers stop at.
 */
export function scriptJson(value: string): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/**
 * Percent with one decimal, rounded down (with a little slack for float noise
 * such as 0.58 * 100): a 65.96% score below a 66% pass mark must not read "66%".
 */
export function percentOneDecimal(value: number): string {
  return (Math.floor(value * 10 + 1e-6) / 10).toFixed(1);
}

/** "72.5%", "66%"; a dash when there is no score (a run still going). */
export function formatPercent(value: number | null | undefined): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '—';
  return `${percentOneDecimal(value).replace(/\.0$/, '')}%`;
}

/** "1 h 07 min", "12 min 5 s", "40 s"; a dash when unknown. */
export function formatDuration(seconds: number | null | undefined): string {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) return '—';
  const total = Math.round(seconds);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const rest = total % 60;
  if (hours > 0) return `${hours} h ${String(minutes).padStart(2, '0')} min`;
  if (minutes > 0) return rest > 0 ? `${minutes} min ${rest} s` : `${minutes} min`;
  return `${rest} s`;
}

/** UTC, so the page reads the same wherever the server runs. */
function formatTime(iso: unknown): string {
  if (typeof iso !== 'string' || iso === '') return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function barWidth(percent: unknown): string {
  const value = typeof percent === 'number' && Number.isFinite(percent) ? percent : 0;
  return String(Math.min(100, Math.max(0, Math.round(value * 10) / 10)));
}

const OUTCOME_LABELS: Record<TaskOutcome, string> = {
  full: 'Full marks',
  partial: 'Partial',
  zero: 'No points',
  incomplete: 'Incomplete',
};

const STATUS_LABELS: Record<CheckStatus, { icon: string; label: string }> = {
  passed: { icon: '✓', label: 'passed' },
  failed: { icon: '✗', label: 'failed' },
  skipped: { icon: '–', label: 'skipped' },
  error: { icon: '⚠', label: 'error' },
};

function lookupLabel<T>(labels: Record<string, T>, key: unknown): T | undefined {
  return typeof key === 'string' && Object.hasOwn(labels, key) ? labels[key] : undefined;
}

const handlebars = Handlebars.create();

const HELPERS = {
  eq: (a: unknown, b: unknown) => a === b,
  formatPercent: (value: unknown) => formatPercent(typeof value === 'number' ? value : null),
  formatDuration: (value: unknown) => formatDuration(typeof value === 'number' ? value : null),
  formatTime,
  barWidth,
  outcomeLabel: (outcome: unknown) => lookupLabel(OUTCOME_LABELS, outcome) ?? String(outcome),
  statusIcon: (status: unknown) => lookupLabel(STATUS_LABELS, status)?.icon ?? '?',
  statusLabel: (status: unknown) => lookupLabel(STATUS_LABELS, status)?.label ?? String(status),
  /** Plain-text paragraphs split on blank lines: explanations are never rendered as markdown. */
  paragraphs: (text: unknown) =>
    typeof text === 'string'
      ? text
          .split(/\r?\n\s*\r?\n/)
          .map((paragraph) => paragraph.trim())
          .filter((paragraph) => paragraph !== '')
      : [],
  joinLines: (lines: unknown) => (Array.isArray(lines) ? lines.map(String).join('\n') : ''),
} satisfies Record<string, (...args: never[]) => unknown>;

for (const [name, helper] of Object.entries(HELPERS)) {
  handlebars.registerHelper(name, helper as Handlebars.HelperDelegate);
}

// Strict: a misspelt field is an error, not an empty cell. knownHelpersOnly:
// a misspelt helper fails at compile time, and a report field can never be
// mistaken for a helper call.
const template = handlebars.compile<ReportContext>(REPORT_TEMPLATE, {
  strict: true,
  knownHelpersOnly: true,
  knownHelpers: Object.fromEntries(Object.keys(HELPERS).map((name) => [name, true])),
});

/** The score report as one self-contained HTML page (inline CSS, no script, no external asset). */
export function renderReportHtml(
  report: SessionReport,
  options: ReportHtmlOptions = { showSolutions: false },
): string {
  const recording = options.recording;
  const embedded = Boolean(recording?.cast !== undefined && recording.player);
  return template({
    ...report,
    showSolutions: options.showSolutions,
    csp: embedded ? PLAYER_CSP : REPORT_CSP,
    recording: recording
      ? {
          embedded,
          castJson: embedded ? scriptJson(recording.cast!) : '',
          script: recording.player?.script ?? '',
          styles: recording.player?.styles ?? [],
          sizeMb: (recording.sizeBytes / 1024 / 1024).toFixed(1),
          downloadPath: recording.downloadPath,
        }
      : false,
  });
}
