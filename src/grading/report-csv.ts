import { percentOneDecimal } from './report-html.js';
import type { SessionReport } from './report.types.js';

const BASE_COLUMNS = [
  'session_id',
  'exam_id',
  'candidate',
  'state',
  'started_at',
  'ended_at',
  'time_used_seconds',
  'points_awarded',
  'points_possible',
  'percent',
  'passed',
  'complete',
] as const;

/**
 * Spreadsheets run a cell that starts with one of these as a formula
 * (`=HYPERLINK(...)`, `+cmd|...`, `@SUM(...)`; tab and CR are stripped by some
 * importers before the check). Candidate names, question ids and exam ids come
 * from people, so a text field gets a leading apostrophe, which makes
 * Excel, LibreOffice and Google Sheets treat it as plain text.
 */
// Importers also trim leading spaces and line breaks before looking, so any
// whitespace in front of a formula character counts too.
const FORMULA_START = /^[\s\p{Z}]*[=+\-@]|^[\t\r\n]/u;

/** A cell from text someone else wrote: guarded against formula injection. */
function text(value: string | null): string {
  if (value === null) return '';
  return FORMULA_START.test(value) ? `'${value}` : value;
}

/**
 * A cell from a number this code formats itself: digits only, so no guard
 * (a guard would turn a negative number into text).
 */
function number(value: number | null | undefined): string {
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : '';
}

function percent(value: number | null | undefined): string {
  return typeof value === 'number' && Number.isFinite(value) ? percentOneDecimal(value) : '';
}

/** RFC 4180: quote a field holding a comma, a quote, CR or LF, and double its quotes. */
function quote(field: string): string {
  return /[",\r\n]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field;
}

function row(fields: string[]): string {
  return `${fields.map(quote).join(',')}\r\n`;
}

/** Ids in order of first appearance, so columns follow the exam's own order. */
function unique(ids: Iterable<string>): string[] {
  return [...new Set(ids)];
}

/**
 * One row per session for spreadsheet analysis of a cohort (RFC 4180, CRLF).
 * Columns: the session fields, then `domain:<id>` (percent) for every domain
 * and `task:<questionId>` (points awarded) for every question in any report;
 * a cell is empty when that session did not have that domain or task.
 */
export function renderCohortCsv(reports: SessionReport[]): string {
  const domainIds = unique(reports.flatMap((report) => report.domains.map((d) => d.domain)));
  const questionIds = unique(
    reports.flatMap((report) =>
      report.tasks.toSorted((a, b) => a.position - b.position).map((task) => task.questionId),
    ),
  );

  const header = [
    ...BASE_COLUMNS,
    ...domainIds.map((id) => `domain:${id}`),
    ...questionIds.map((id) => `task:${id}`),
  ];

  const lines = reports.map((report) => {
    const domains = new Map(report.domains.map((d) => [d.domain, d.percent]));
    const tasks = new Map<string, number>();
    for (const task of report.tasks) {
      if (!tasks.has(task.questionId)) tasks.set(task.questionId, task.pointsAwarded);
    }
    return row([
      text(report.sessionId),
      text(report.examId),
      text(report.candidateName),
      text(report.state),
      text(report.startedAt),
      text(report.endedAt),
      number(report.timeUsedSeconds),
      number(report.pointsAwarded),
      number(report.pointsPossible),
      percent(report.percent),
      report.passed === null ? '' : String(report.passed),
      String(report.complete),
      ...domainIds.map((id) => percent(domains.get(id))),
      ...questionIds.map((id) => number(tasks.get(id))),
    ]);
  });

  return row(header) + lines.join('');
}
