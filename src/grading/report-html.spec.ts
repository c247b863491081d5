import { describe, expect, it } from '@jest/globals';

import { domainName, renderMarkdown } from '../question-bank/markdown.js';
import { CANDIDATE_SETUP_FAILURE } from '../sessions/candidate-messages.js';
import { formatDuration, formatPercent, renderReportHtml } from './report-html.js';
import { forCandidate, UNDECIDED_FOR_CANDIDATE } from './report.service.js';
import type { RunSummary, SessionReport, TaskReport } from './report.types.js';

type RawTask = Omit<TaskReport, 'number' | 'domainName' | 'taskHtml' | 'solution'> & {
  solution?: { explanation: string; commands: string[] };
};

/** What the report service adds to a stored task: its number, names and rendered Markdown. */
function asReported(task: RawTask): TaskReport {
  return {
    ...task,
    number: task.position + 1,
    domainName: domainName(task.domain),
    taskHtml: renderMarkdown(`Do \`${task.questionId}\`.`),
    solution: task.solution && {
      ...task.solution,
      explanationHtml: renderMarkdown(task.solution.explanation),
    },
  };
}

const FINAL_RUN: RunSummary = {
  runId: 'run-2',
  status: 'complete',
  startedAt: '2025-03-01T11:05:00.000Z',
  finishedAt: '2025-03-01T11:06:30.000Z',
  percent: 58.3333,
  passed: false,
  trigger: 'regrade',
};

const FIRST_RUN: RunSummary = {
  runId: 'run-1',
  status: 'incomplete',
  startedAt: '2025-03-01T11:02:00.000Z',
  finishedAt: '2025-03-01T11:03:10.000Z',
  percent: 41.6667,
  passed: false,
  trigger: 'submit',
};

function tasks(): TaskReport[] {
  const raw: RawTask[] = [
    {
      position: 0,
      questionId: 'etcd-backup',
      title: 'Back up etcd',
      domain: 'cluster-architecture',
      pointsAwarded: 4,
      pointsPossible: 4,
      outcome: 'full',
      answer: null,
      checks: [
        {
          id: 'snapshot-exists',
          kind: 'custom',
          description: 'Snapshot file exists on the control plane',
          status: 'passed',
          pointsAwarded: 4,
          pointsPossible: 4,
          message: '',
          durationMs: 812,
        },
      ],
      solution: {
        explanation: 'Use etcdctl with the cluster certificates.\n\nThen verify the snapshot.',
        commands: [
          'ETCDCTL_API=3 etcdctl snapshot save /opt/backup.db',
          'etcdctl snapshot status /opt/backup.db',
        ],
      },
      setupStatus: 'ready',
      setupMessage: null,
    },
    {
      position: 1,
      questionId: 'svc-expose',
      title: 'Expose the web deployment',
      domain: 'services-networking',
      pointsAwarded: 2,
      pointsPossible: 5,
      outcome: 'partial',
      answer: null,
      checks: [
        {
          id: 'svc',
          kind: 'resource',
          description: 'Service web exists',
          status: 'passed',
          pointsAwarded: 2,
          pointsPossible: 2,
          message: '',
          durationMs: 40,
        },
        {
          id: 'port',
          kind: 'resource',
          description: 'Service targets port 8080',
          status: 'failed',
          pointsAwarded: 0,
          pointsPossible: 2,
          message: 'spec.ports[0].targetPort\n  expected: 8080\n  actual:   80',
          hint: 'Check the container port of the deployment.',
          durationMs: 35,
        },
        {
          id: 'endpoints',
          kind: 'endpoints',
          description: 'Service has ready endpoints',
          status: 'skipped',
          pointsAwarded: 0,
          pointsPossible: 1,
          message: 'Skipped: depends on check "port", which failed',
          durationMs: null,
        },
      ],
      solution: {
        explanation: 'Expose the deployment on port 80 targeting 8080.',
        commands: ['kubectl expose deploy web --port 80 --target-port 8080'],
      },
      setupStatus: 'ready',
      setupMessage: null,
    },
    {
      position: 2,
      questionId: 'node-notready',
      title: 'Fix the NotReady node',
      domain: 'troubleshooting',
      pointsAwarded: 1,
      pointsPossible: 3,
      outcome: 'incomplete',
      answer: 'kubelet was stopped',
      checks: [
        {
          id: 'answer',
          kind: 'answer',
          description: 'Named the cause',
          status: 'passed',
          pointsAwarded: 1,
          pointsPossible: 1,
          message: '',
          durationMs: 2,
        },
        {
          id: 'node-ready',
          kind: 'resource',
          description: 'Node worker-1 is Ready',
          status: 'error',
          pointsAwarded: 0,
          pointsPossible: 2,
          message: 'cluster unreachable: connect ETIMEDOUT 10.0.0.4:6443',
          durationMs: 30000,
        },
      ],
      setupStatus: 'failed',
      setupMessage: 'Could not stop kubelet on worker-1: ssh timed out',
    },
  ];
  return raw.map(asReported);
}

function report(overrides: Partial<SessionReport> = {}): SessionReport {
  return {
    sessionId: 'sess-0001',
    examId: 'cka-mock-1',
    examTitle: 'CKA Mock Exam 1',
    candidateName: 'Ada Lovelace',
    state: 'graded',
    startedAt: '2025-03-01T10:00:00.000Z',
    endedAt: '2025-03-01T11:07:00.000Z',
    timeUsedSeconds: 4020,
    durationSeconds: 7200,
    run: FINAL_RUN,
    complete: true,
    incompleteNote: null,
    pointsAwarded: 7,
    pointsPossible: 12,
    percent: 58.3333,
    passPercent: 66,
    passed: false,
    domains: [
      {
        domain: 'cluster-architecture',
        domainName: domainName('cluster-architecture'),
        pointsAwarded: 4,
        pointsPossible: 4,
        percent: 100,
      },
      {
        domain: 'services-networking',
        domainName: domainName('services-networking'),
        pointsAwarded: 2,
        pointsPossible: 5,
        percent: 40,
      },
      {
        domain: 'troubleshooting',
        domainName: domainName('troubleshooting'),
        pointsAwarded: 1,
        pointsPossible: 3,
        percent: 33.3333,
      },
    ],
    tasks: tasks(),
    history: [FINAL_RUN, FIRST_RUN],
    ...overrides,
  };
}

/** The text of the section of one task, to assert on it alone. */
function taskSection(html: string, position: number): string {
  const start = html.indexOf(`<section class="task" id="task-${position}"`);
  expect(start).toBeGreaterThan(-1);
  const next = html.indexOf('<section class="task"', start + 1);
  return html.slice(start, next === -1 ? html.indexOf('</main>') : next);
}

describe('formatDuration', () => {
  it('shows hours and zero-padded minutes, or minutes and seconds', () => {
    expect(formatDuration(4020)).toBe('1 h 07 min');
    expect(formatDuration(7200)).toBe('2 h 00 min');
    expect(formatDuration(725)).toBe('12 min 5 s');
    expect(formatDuration(600)).toBe('10 min');
    expect(formatDuration(42)).toBe('42 s');
    expect(formatDuration(0)).toBe('0 s');
    expect(formatDuration(null)).toBe('—');
  });
});

describe('formatPercent', () => {
  it('shows one decimal, rounded down, so a score below the pass mark never reads as it', () => {
    expect(formatPercent(58.3333)).toBe('58.3%');
    expect(formatPercent(65.96)).toBe('65.9%');
    expect(formatPercent(0.58 * 100)).toBe('58%');
    expect(formatPercent(66)).toBe('66%');
    expect(formatPercent(100)).toBe('100%');
    expect(formatPercent(null)).toBe('—');
  });
});

describe('renderReportHtml', () => {
  it('renders a complete self-contained page without script or external assets', () => {
    const html = renderReportHtml(report());

    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('<style>');
    expect(html).not.toMatch(/<script|<link|<img|src=|href=/i);
    expect(html).toContain("default-src 'none'");
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
  });

  it('shows the exam, candidate, verdict against the pass mark, points and time used', () => {
    const html = renderReportHtml(report());

    expect(html).toContain('<h1>CKA Mock Exam 1</h1>');
    expect(html).toContain('Ada Lovelace');
    expect(html).toContain('Not passed');
    expect(html).toContain('58.3% against a pass mark of 66%');
    expect(html).toContain('7 of 12');
    expect(html).toContain('1 h 07 min of 2 h 00 min');
    expect(html).toContain('complete, triggered by regrade');
    expect(html).not.toContain('Grading is incomplete');
  });

  it('shows a pass banner when passed', () => {
    const html = renderReportHtml(report({ percent: 75, passed: true }));

    expect(html).toContain('class="banner pass"');
    expect(html).toContain('>Passed</strong>');
    expect(html).toContain('75% against a pass mark of 66%');
  });

  it('draws one accessible bar per domain, named as the curriculum does, as wide as its percent', () => {
    const html = renderReportHtml(report());

    expect(html).toContain(
      'role="img" aria-label="Services &amp; Networking: 40% (2 of 5 points)"><div class="bar-fill" style="width: 40%">',
    );
    expect(html).toContain(
      'aria-label="Cluster Architecture, Installation &amp; Configuration: 100% (4 of 4 points)"',
    );
    expect(html).toContain('style="width: 33.3%"');
  });

  it('shows each task with outcome, points, checks and their messages and hints', () => {
    const html = renderReportHtml(report());

    const first = taskSection(html, 1);
    expect(first).toContain('Task 1: Back up etcd');
    expect(first).toContain('Full marks');
    expect(first).toContain('4 of 4 points');

    const second = taskSection(html, 2);
    expect(second).toContain('Partial');
    expect(second).toContain('<th scope="col">Result</th>');
    expect(second).toContain('✗</span> failed');
    expect(second).toContain('skipped');
    expect(second).toContain('Service targets port 8080');
    expect(second).toContain('spec.ports[0].targetPort\n  expected: 8080\n  actual:   80');
    expect(second).toContain('Check the container port of the deployment.');
    expect(second).not.toContain('Setup problem');
    expect(second).not.toContain('Answer given');
  });

  it('shows a setup problem, the answer and an errored check as undecided, not zero', () => {
    const third = taskSection(renderReportHtml(report()), 3);

    expect(third).toContain('Incomplete');
    expect(third).toContain('1 of 3 points so far');
    expect(third).toContain('Setup problem:');
    expect(third).toContain('Could not stop kubelet on worker-1: ssh timed out');
    expect(third).toContain('<pre class="answer">kubelet was stopped</pre>');
    expect(third).toContain('⚠</span> error');
    expect(third).toContain('<span title="not decided">&ndash;</span> / 2');
    expect(third).toContain('connect ETIMEDOUT 10.0.0.4:6443');
  });

  it('hides reference solutions by default', () => {
    for (const html of [
      renderReportHtml(report()),
      renderReportHtml(report(), { showSolutions: false }),
    ]) {
      expect(html).not.toContain('Reference solution');
      expect(html).not.toContain('etcdctl');
      expect(html).not.toContain('kubectl expose');
    }
  });

  it('shows reference solutions, explanations rendered from Markdown, and commands when asked', () => {
    const html = renderReportHtml(report(), { showSolutions: true });

    const first = taskSection(html, 1);
    expect(first).toContain('Reference solution');
    expect(first).toContain(
      '<p>Use etcdctl with the cluster certificates.</p>\n<p>Then verify the snapshot.</p>',
    );
    expect(first).toContain(
      '<pre class="commands"><code>ETCDCTL_API&#x3D;3 etcdctl snapshot save /opt/backup.db\netcdctl snapshot status /opt/backup.db</code></pre>',
    );
    expect(taskSection(html, 2)).toContain('kubectl expose deploy web');
    // Task 3 has no solution: no empty section.
    expect(taskSection(html, 3)).not.toContain('Reference solution');
  });

  it('renders explanations and task texts as Markdown with raw HTML left inert', () => {
    const tasksWithMarkdown = tasks();
    tasksWithMarkdown[0] = asReported({
      ...tasksWithMarkdown[0],
      solution: {
        explanation:
          '**Bold**, [docs](https://kubernetes.io/docs/) and <img src=x onerror=alert(1)> </script>',
        commands: [],
      },
    });
    const html = renderReportHtml(report({ tasks: tasksWithMarkdown }), { showSolutions: true });

    const first = taskSection(html, 1);
    expect(first).toContain('<strong>Bold</strong>');
    expect(first).toContain(
      '<a href="https://kubernetes.io/docs/" target="_blank" rel="noopener noreferrer">docs</a>',
    );
    expect(first).toContain('&lt;img src=x onerror=alert(1)&gt; &lt;/script&gt;');
    expect(first).not.toContain('<img');
    expect(first).toContain('<summary>Task text</summary><p>Do <code>etcd-backup</code>.</p>');
    expect(first).not.toContain('<pre class="commands">');
  });

  it('warns when grading is incomplete and never presents it as a final or zero score', () => {
    const html = renderReportHtml(
      report({
        run: FIRST_RUN,
        complete: false,
        incompleteNote: '1 check could not reach the cluster; a regrade will retry it.',
        percent: 41.6667,
        pointsAwarded: 5,
        passed: false,
        history: [FIRST_RUN],
      }),
    );

    expect(html).toContain(
      'Grading is incomplete: 1 check could not reach the cluster; a regrade will retry it.',
    );
    expect(html).toContain('role="alert"');
    expect(html).toContain('Result pending');
    expect(html).toContain('41.6% from the checks decided so far');
    expect(html).toContain('5 of 12 (so far)');
    expect(html).not.toContain('Not passed');
    expect(html).not.toContain('class="banner fail"');
  });

  it('words the incomplete banner even without a note', () => {
    const html = renderReportHtml(report({ complete: false, incompleteNote: null }));

    expect(html).toContain('Grading is incomplete: some checks could not be decided.');
  });

  it('lists the grade runs with time, trigger, status and percent', () => {
    const html = renderReportHtml(report());
    const history = html.slice(html.indexOf('<table class="history">'));

    expect(history).toContain('<th scope="col">Trigger</th>');
    expect(history).toContain('2025-03-01 11:05:00 UTC</time> <span class="muted">(this report)');
    expect(history).toContain('<td>regrade</td>');
    expect(history).toContain('<td>submit</td>');
    expect(history).toContain('<td>incomplete</td>');
    expect(history).toContain('41.6%');
  });

  it('shows a run still in progress without a percent', () => {
    const running: RunSummary = {
      ...FIRST_RUN,
      runId: 'run-3',
      status: 'running',
      finishedAt: null,
      percent: null,
      passed: null,
    };
    const html = renderReportHtml(report({ history: [running, FINAL_RUN] }));

    expect(html).toContain('<td>running</td>');
    expect(html).toContain('<td class="num">—</td>');
  });

  it('copes with a missing name, times and tasks', () => {
    const html = renderReportHtml(
      report({
        candidateName: null,
        startedAt: null,
        endedAt: null,
        timeUsedSeconds: null,
        domains: [],
        tasks: [],
        history: [],
      }),
    );

    expect(html).toContain('an unnamed candidate');
    expect(html).toContain('— of 2 h 00 min');
    expect(html).toContain('This exam had no tasks.');
    expect(html).not.toContain('Score by domain');
    expect(html).not.toContain('Grading history');
  });

  it('escapes every value from the report', () => {
    const evil = '<script>alert("x")</script> & "quoted"';
    const escaped = '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;quoted&quot;';
    const evilTasks = tasks();
    evilTasks[1].title = evil;
    evilTasks[1].answer = evil;
    evilTasks[1].checks[1].message = evil;
    evilTasks[1].checks[1].hint = evil;
    evilTasks[1].checks[1].description = evil;
    evilTasks[2].setupMessage = evil;
    evilTasks[1] = asReported({
      ...evilTasks[1],
      solution: { explanation: evil, commands: [evil] },
    });

    const html = renderReportHtml(
      report({
        examTitle: evil,
        candidateName: evil,
        incompleteNote: evil,
        complete: false,
        tasks: evilTasks,
        domains: [
          { domain: evil, domainName: evil, pointsAwarded: 1, pointsPossible: 2, percent: 50 },
        ],
      }),
      { showSolutions: true },
    );

    expect(html).not.toContain('<script');
    expect(html).not.toContain('alert("x")');
    expect(html).toContain(`<title>Score report: ${escaped} (${escaped})</title>`);
    expect(html).toContain(`<h1>${escaped}</h1>`);
    expect(html).toContain(`Grading is incomplete: ${escaped}`);
    expect(html).toContain(`aria-label="${escaped}: 50% (1 of 2 points)"`);

    const second = taskSection(html, 2);
    expect(second).toContain(`Task 2: ${escaped}</h3>`);
    expect(second).toContain(`<pre class="answer">${escaped}</pre>`);
    expect(second).toContain(`<td class="message">${escaped}</td>`);
    expect(second).toContain(`<td>${escaped}</td>`);
    expect(second).toContain(`<p>${escaped}</p>`);
    expect(second).toContain(`<code>${escaped}</code>`);
    expect(taskSection(html, 3)).toContain(`<span class="pre">${escaped}</span>`);
  });

  it('is deterministic for the same report', () => {
    expect(renderReportHtml(report(), { showSolutions: true })).toBe(
      renderReportHtml(report(), { showSolutions: true }),
    );
  });
});

describe('forCandidate', () => {
  it('keeps scores and checks, and replaces internal failure texts with what a candidate may read', () => {
    const trainers = report({ incompleteNote: '1 check errored: cluster unreachable 10.0.0.4' });
    const candidates = forCandidate(trainers);

    expect(candidates.percent).toBe(trainers.percent);
    expect(candidates.incompleteNote).toBe(UNDECIDED_FOR_CANDIDATE);
    const broken = candidates.tasks[2];
    // Why the setup failed names hosts and programs: trainers only.
    expect(broken.setupStatus).toBe('failed');
    expect(broken.setupMessage).toBe(CANDIDATE_SETUP_FAILURE);
    expect(broken.checks.map((c) => [c.id, c.status, c.message])).toEqual([
      ['answer', 'passed', ''],
      ['node-ready', 'error', UNDECIDED_FOR_CANDIDATE],
    ]);
    // A failed check's reason is the candidate's to read.
    expect(candidates.tasks[1].checks[1].message).toBe(trainers.tasks[1].checks[1].message);
    expect(candidates.tasks[0].setupMessage).toBeNull();
    expect(JSON.stringify(candidates)).not.toContain('ssh timed out');
    expect(JSON.stringify(candidates)).not.toContain('10.0.0.4');
  });
});
