import { describe, expect, it } from '@jest/globals';

import { renderCohortCsv } from './report-csv.js';
import type { CheckReport, RunSummary, SessionReport, TaskReport } from './report.types.js';

const RUN: RunSummary = {
  runId: 'run-1',
  status: 'complete',
  startedAt: '2025-03-01T11:05:00.000Z',
  finishedAt: '2025-03-01T11:06:00.000Z',
  percent: 58.3333,
  passed: false,
  trigger: 'submit',
};

function check(status: CheckReport['status'], awarded: number, possible: number): CheckReport {
  return {
    id: `c-${status}`,
    kind: 'resource',
    description: `a ${status} check`,
    status,
    pointsAwarded: awarded,
    pointsPossible: possible,
    message: status === 'passed' ? '' : `it ${status}`,
    durationMs: 10,
  };
}

function task(
  position: number,
  questionId: string,
  domain: string,
  awarded: number,
  possible: number,
  outcome: TaskReport['outcome'],
  checks: CheckReport[],
): TaskReport {
  return {
    position,
    number: position + 1,
    questionId,
    title: `Task ${questionId}`,
    domain,
    domainName: domain,
    taskHtml: '',
    pointsAwarded: awarded,
    pointsPossible: possible,
    outcome,
    answer: null,
    checks,
    setupStatus: 'ready',
    setupMessage: null,
  };
}

/** Ada: three tasks, two domains, complete. */
function ada(): SessionReport {
  return {
    sessionId: 'sess-1',
    examId: 'cka-mock-1',
    examTitle: 'CKA Mock Exam 1',
    candidateName: 'Ada Lovelace',
    state: 'graded',
    startedAt: '2025-03-01T10:00:00.000Z',
    endedAt: '2025-03-01T11:07:00.000Z',
    timeUsedSeconds: 4020,
    durationSeconds: 7200,
    run: RUN,
    complete: true,
    incompleteNote: null,
    pointsAwarded: 7,
    pointsPossible: 12,
    percent: 58.3333,
    passPercent: 66,
    passed: false,
    domains: [
      {
        domain: 'troubleshooting',
        domainName: 'troubleshooting',
        pointsAwarded: 5,
        pointsPossible: 7,
        percent: 71.4286,
      },
      {
        domain: 'storage',
        domainName: 'storage',
        pointsAwarded: 2,
        pointsPossible: 5,
        percent: 40,
      },
    ],
    // Out of position order on purpose: columns follow positions.
    tasks: [
      task(2, 'pvc-bind', 'storage', 2, 5, 'partial', [
        check('passed', 2, 2),
        check('failed', 0, 2),
        check('skipped', 0, 1),
      ]),
      task(1, 'node-notready', 'troubleshooting', 4, 4, 'full', [check('passed', 4, 4)]),
      task(3, 'dns-debug', 'troubleshooting', 1, 3, 'partial', [
        check('passed', 1, 1),
        check('failed', 0, 2),
      ]),
    ],
    history: [RUN],
  };
}

/** Bob: a different task set, an incomplete run, and a hostile name. */
function bob(): SessionReport {
  return {
    ...ada(),
    sessionId: 'sess-2',
    candidateName: '=HYPERLINK("http://evil.example","click"), Bob',
    startedAt: '2025-03-01T10:01:00.000Z',
    endedAt: null,
    state: 'expired',
    timeUsedSeconds: 7200,
    run: { ...RUN, runId: 'run-2', status: 'incomplete', percent: 66.6667 },
    complete: false,
    incompleteNote: 'cluster unreachable',
    pointsAwarded: 8,
    pointsPossible: 12,
    percent: 66.6667,
    passed: true,
    domains: [
      {
        domain: 'troubleshooting',
        domainName: 'troubleshooting',
        pointsAwarded: 6,
        pointsPossible: 7,
        percent: 85.7143,
      },
      {
        domain: 'services-networking',
        domainName: 'services-networking',
        pointsAwarded: 2,
        pointsPossible: 5,
        percent: 40,
      },
    ],
    tasks: [
      task(1, 'node-notready', 'troubleshooting', 4, 4, 'full', [check('passed', 4, 4)]),
      task(2, 'svc-expose', 'services-networking', 2, 5, 'partial', [
        check('passed', 2, 2),
        check('failed', 0, 3),
      ]),
      task(3, 'dns-debug', 'troubleshooting', 2, 3, 'incomplete', [
        check('passed', 2, 2),
        check('error', 0, 1),
      ]),
    ],
  };
}

/** Splits on CRLF only, outside quotes: enough for these fixtures. */
function records(csv: string): string[][] {
  const rows: string[][] = [];
  let field = '';
  let row: string[] = [];
  let quoted = false;
  for (let i = 0; i < csv.length; i++) {
    const char = csv[i];
    if (quoted) {
      if (char === '"' && csv[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      row.push(field);
      field = '';
    } else if (char === '\r' && csv[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += char;
  }
  expect(field).toBe('');
  expect(row).toEqual([]);
  return rows;
}

describe('renderCohortCsv', () => {
  it('writes a header with the session columns, then every domain and task seen', () => {
    const [header] = records(renderCohortCsv([ada(), bob()]));

    expect(header).toEqual([
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
      'domain:troubleshooting',
      'domain:storage',
      'domain:services-networking',
      'task:node-notready',
      'task:pvc-bind',
      'task:dns-debug',
      'task:svc-expose',
    ]);
  });

  it('writes one row per session, empty where a session lacks a domain or task', () => {
    const [, first, second] = records(renderCohortCsv([ada(), bob()]));

    expect(first).toEqual([
      'sess-1',
      'cka-mock-1',
      'Ada Lovelace',
      'graded',
      '2025-03-01T10:00:00.000Z',
      '2025-03-01T11:07:00.000Z',
      '4020',
      '7',
      '12',
      '58.3',
      'false',
      'true',
      '71.4',
      '40.0',
      '',
      '4',
      '2',
      '1',
      '',
    ]);
    expect(second.slice(3, 12)).toEqual([
      'expired',
      '2025-03-01T10:01:00.000Z',
      '',
      '7200',
      '8',
      '12',
      '66.6',
      'true',
      'false',
    ]);
    expect(second.slice(12)).toEqual(['85.7', '', '40.0', '4', '', '2', '2']);
  });

  it('uses CRLF line ends, including after the last record', () => {
    const csv = renderCohortCsv([ada()]);

    expect(csv.endsWith('\r\n')).toBe(true);
    expect(csv.split('\r\n')).toHaveLength(3);
    expect(csv.replaceAll('\r\n', '')).not.toMatch(/[\r\n]/);
  });

  it('quotes fields with commas, quotes and line breaks, doubling the quotes', () => {
    const csv = renderCohortCsv([
      { ...ada(), candidateName: 'Lovelace, Ada "Countess"' },
      { ...ada(), sessionId: 'sess-3', candidateName: 'two\nlines' },
      { ...ada(), sessionId: 'sess-4', candidateName: 'carriage\rreturn' },
    ]);

    expect(csv).toContain(',"Lovelace, Ada ""Countess""",');
    expect(csv).toContain(',"two\nlines",');
    expect(csv).toContain(',"carriage\rreturn",');
    expect(records(csv).map((row) => row[2])).toEqual([
      'candidate',
      'Lovelace, Ada "Countess"',
      'two\nlines',
      'carriage\rreturn',
    ]);
  });

  it('neutralises fields a spreadsheet would run as a formula', () => {
    const csv = renderCohortCsv([
      bob(),
      ...[
        '+1+cmd|x',
        '-2+3',
        '@SUM(A1)',
        '\tTAB',
        '\rCR',
        ' =1+1',
        '\n=2+2',
        '\u00a0@x',
        '\nline',
      ].map((name, i) => ({
        ...ada(),
        sessionId: `s-${i}`,
        candidateName: name,
      })),
      { ...ada(), sessionId: '=1+1' },
    ]);

    expect(csv).toContain(`,"'=HYPERLINK(""http://evil.example"",""click""), Bob",`);
    const names = records(csv)
      .slice(1)
      .map((row) => row[2]);
    expect(names).toEqual([
      `'=HYPERLINK("http://evil.example","click"), Bob`,
      "'+1+cmd|x",
      "'-2+3",
      "'@SUM(A1)",
      "'\tTAB",
      "'\rCR",
      "' =1+1",
      "'\n=2+2",
      "'\u00a0@x",
      "'\nline",
      'Ada Lovelace',
    ]);
    expect(csv).toContain("\r\n'=1+1,");
  });

  it('leaves ordinary text, numbers and a missing name alone', () => {
    const [, row] = records(renderCohortCsv([{ ...ada(), candidateName: null }]));

    expect(row[2]).toBe('');
    expect(row[9]).toBe('58.3');
  });

  it('writes only the header for an empty cohort', () => {
    expect(renderCohortCsv([])).toBe(
      'session_id,exam_id,candidate,state,started_at,ended_at,time_used_seconds,' +
        'points_awarded,points_possible,percent,passed,complete\r\n',
    );
  });
});
