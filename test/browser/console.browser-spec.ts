import { jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { BrowserContext, Page } from 'playwright-core';
import { StaffRole } from '../../src/auth/api-token.entity.js';
import { REPO_ROOT } from '../support/app.js';
import { bearer } from '../support/candidate.js';
import { eventually } from '../support/eventually.js';
import {
  accessibilityProblems,
  type ConsoleApp,
  focusInTerminal,
  newConsole,
  screenshot,
  startConsoleApp,
  terminalText,
  typeCommand,
  untilTerminal,
} from './console-harness.js';

jest.setTimeout(180_000);

const run = promisify(execFile);
const HOURS = 3_600_000;

/**
 * A candidate's whole exam in a real Chromium, against the engine serving the
 * built console on the sandbox. The steps run in order on one page (each
 * builds on the last); screenshots of each go to test-results/browser/.
 */
describe('the exam console, as a candidate uses it', () => {
  let app: ConsoleApp;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];
  let trainer: string;
  let sessionId: string;

  beforeAll(async () => {
    app = await startConsoleApp();
    trainer = await app.t.staffToken(StaffRole.TRAINER);
    ({ context, page, problems } = await newConsole(app));
    // The browser's clock is three hours ahead of the server's: the timer must not care.
    await context.clock.install({ time: Date.now() + 3 * HOURS });
  });
  afterAll(async () => {
    await context?.close();
    await app?.close();
  });
  afterEach(() => {
    // No CSP violation and no uncaught error on any step.
    expect(problems).toEqual([]);
  });

  const staffView = async () =>
    (await app.t.http.get(`/api/sessions/${sessionId}`).set(bearer(trainer)).expect(200)).body as {
      state: string;
      notepad: string | null;
      questions: {
        questionId: string;
        answer: string | null;
        note: string | null;
        flagged: boolean;
      }[];
    };

  it('signs in with an invitation code', async () => {
    const invitation = await app.t.http
      .post('/api/invitations')
      .set(bearer(trainer))
      .send({ examId: 'invited', candidateName: 'Grace Hopper' })
      .expect(201);
    await page.goto('/');
    await page.getByTestId('signin-code').waitFor();
    await screenshot(page, '01-sign-in');
    expect(await accessibilityProblems(page)).toEqual([]);

    // A wrong code gets a clear message.
    await page.getByTestId('signin-code').fill('cki_not-a-real-code');
    await page.getByTestId('signin-submit').click();
    await page.getByTestId('signin-error').waitFor();
    expect(await page.getByTestId('signin-error').innerText()).toMatch(/No such invitation code/i);
    await screenshot(page, '02-sign-in-error');

    await page.getByTestId('signin-code').fill(invitation.body.code);
    await page.getByTestId('signin-submit').click();
    await page.getByTestId('briefing').waitFor();
    // The browser holds the session as a cookie (its requests share the page's cookies).
    sessionId = ((await (await page.request.get('/api/sessions/me')).json()) as { id: string }).id;
  });

  it('shows the briefing with each task’s setup, and starts the clock only at Begin', async () => {
    const briefing = await page.getByTestId('briefing').innerText();
    expect(briefing).toMatch(/Duration\s+1 hour/);
    expect(briefing).toMatch(/Pass mark\s+66%/);
    expect(briefing).toMatch(/Tasks\s+2/);
    await page.getByTestId('setup-item-1').waitFor();
    await eventually(
      'every task set up',
      async () =>
        Promise.all(
          [1, 2].map((n) => page.getByTestId(`setup-item-${n}`).getAttribute('data-status')),
        ),
      (statuses) => statuses.every((s) => s === 'applied'),
      30_000,
    );
    expect((await staffView()).state).toBe('ready');
    await page.getByTestId('begin').waitFor({ state: 'visible' });
    await eventually(
      'Begin to be enabled',
      () => page.getByTestId('begin').isEnabled(),
      (enabled) => enabled,
    );
    await screenshot(page, '03-briefing-ready');
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.getByTestId('begin').click();
    await page.getByTestId('timer').waitFor();
    expect((await staffView()).state).toBe('active');
  });

  it('counts down from the server’s deadline although the browser’s clock is hours off', async () => {
    const { deadline } = (
      await app.t.http.get(`/api/sessions/${sessionId}`).set(bearer(trainer)).expect(200)
    ).body as { deadline: string };
    const remaining = Number(
      await page.getByTestId('timer').getAttribute('data-remaining-seconds'),
    );
    // This process shares the server's clock; the browser's is three hours ahead.
    const expected = (Date.parse(deadline) - Date.now()) / 1000;
    expect(Math.abs(remaining - expected)).toBeLessThanOrEqual(2);
    expect(remaining).toBeGreaterThan(3500);
    // Within the offset's error bound (half a round trip, longer while the
    // terminal's shell starts beside it): a second either way.
    expect(await page.getByTestId('timer').innerText()).toMatch(/^(59:\d\d|1:00:0[01]|60:00)/);
    await screenshot(page, '04-console');
    expect(await accessibilityProblems(page)).toEqual([]);
  });

  it('runs kubectl in the browser terminal, on the session’s cluster', async () => {
    await untilTerminal(page, 'connected');
    const namespace = /In namespace (\S+?), create/.exec(
      await page.getByTestId('task-text').innerText(),
    )?.[1];
    expect(namespace).toBeTruthy();
    // Keyboard first: Tab reaches the terminal.
    await page.getByTestId('terminal-menu-button').focus();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await focusInTerminal(page)).toBe(true);
    await typeCommand(page, `kubectl -n ${namespace} get cm -o name`);
    await eventually(
      'the task’s ConfigMap listed in the terminal',
      () => terminalText(page),
      (text) => /^configmap\/hint$/m.test(text),
    );
    // The console's shortcuts leave the terminal's keys alone: Alt+F is the shell's.
    await page.keyboard.press('Alt+F');
    await page.keyboard.press('Alt+ArrowRight');
    expect(await page.getByTestId('nav-task-1').getAttribute('data-flagged')).toBe('false');
    expect(await page.getByTestId('task-title').innerText()).toMatch(/ConfigMap/);
    // Shift+Tab leaves the terminal; the shortcuts work again.
    await page.keyboard.press('Shift+Tab');
    expect(await focusInTerminal(page)).toBe(false);
    await screenshot(page, '04a-terminal-light');
    expect(await accessibilityProblems(page)).toEqual([]);
  });

  it('copies with Ctrl+Shift+C and pastes with Ctrl+Shift+V', async () => {
    const row = page.locator('[data-testid="terminal-screen"] .xterm-rows > div', {
      hasText: /^configmap\/hint\s*$/,
    });
    const box = (await row.last().boundingBox())!;
    // A double click selects the word under the pointer: the whole name.
    await page.mouse.dblclick(box.x + 4, box.y + box.height / 2);
    await page.keyboard.press('Control+Shift+C');
    await eventually(
      'the selection in the clipboard',
      () => page.evaluate(() => navigator.clipboard.readText()),
      (text) => text === 'configmap/hint',
    );
    await page.keyboard.press('Control+Shift+V');
    await eventually(
      'the pasted text at the prompt',
      () => terminalText(page),
      (text) => /\$ configmap\/hint$/m.test(text),
    );
    // Ctrl+C is the shell's: it abandons the pasted line.
    await page.keyboard.press('Control+C');
    expect(problems).toEqual([]);
  });

  it('keeps the shell across a reload: the screen comes back, and so do its variables', async () => {
    await page.getByTestId('terminal-screen').click();
    await typeCommand(page, 'export X=42');
    await page.reload();
    await untilTerminal(page, 'connected');
    await eventually(
      'the replayed screen',
      () => terminalText(page),
      (text) => text.includes('export X=42') && text.includes('configmap/hint'),
    );
    await page.getByTestId('terminal-screen').click();
    await typeCommand(page, 'echo $X');
    await eventually(
      'echo $X to print 42',
      () => terminalText(page),
      (text) => /^42$/m.test(text),
    );
  });

  it('has a context menu: Copy, Paste, Select all and Clear, by mouse and by keyboard', async () => {
    const menu = page.getByTestId('terminal-menu');
    await page
      .getByTestId('terminal-screen')
      .click({ button: 'right', position: { x: 200, y: 60 } });
    await menu.waitFor();
    expect(await menu.getByRole('menuitem').allInnerTexts()).toEqual([
      expect.stringMatching(/^Copy/),
      expect.stringMatching(/^Paste/),
      'Select all',
      'Clear',
    ]);
    // Nothing is selected: Copy is there, but disabled.
    expect(await page.getByTestId('terminal-menu-copy').getAttribute('aria-disabled')).toBe('true');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('role'))).toBe(
      'menuitem',
    );
    await screenshot(page, '04b-terminal-menu');
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.keyboard.press('Escape');
    await menu.waitFor({ state: 'detached' });
    expect(await focusInTerminal(page)).toBe(true);

    // By keyboard: Shift+F10, then the arrows.
    await page.keyboard.press('Shift+F10');
    await menu.waitFor();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Select all');
    await page.keyboard.press('Enter');
    await menu.waitFor({ state: 'detached' });
    await page.keyboard.press('Control+Shift+C');
    await eventually(
      'the whole screen in the clipboard',
      () => page.evaluate(() => navigator.clipboard.readText()),
      (text) => text.includes('export X=42') && /^42$/m.test(text),
    );
    await page.getByTestId('terminal-menu-button').click();
    await menu.waitFor();
    await page.keyboard.press('End');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Clear');
    await page.keyboard.press('Enter');
    await eventually(
      'the screen to be cleared',
      () => terminalText(page),
      (text) => !text.includes('export X=42'),
    );
    expect(await focusInTerminal(page)).toBe(true);
  });

  it('follows the console’s theme and text size', async () => {
    const fontSize = () =>
      page.evaluate(
        () =>
          getComputedStyle(document.querySelector('[data-testid="terminal-screen"] .xterm-rows')!)
            .fontSize,
      );
    const background = () =>
      page.evaluate(
        () =>
          getComputedStyle(
            document.querySelector('[data-testid="terminal-screen"] .xterm-scrollable-element')!,
          ).backgroundColor,
      );
    await page.getByTestId('terminal-screen').click();
    await typeCommand(page, 'ls -la --color=always /etc | head -n 12');
    expect(await fontSize()).toBe('14px');
    await page.getByTestId('zoom-in').click();
    await page.getByTestId('zoom-in').click();
    await eventually('a larger font', fontSize, (size) => size === '17px');
    await page.getByTestId('zoom-out').click();
    await page.getByTestId('zoom-out').click();
    await eventually('the font back', fontSize, (size) => size === '14px');
    expect(await background()).toBe('rgb(255, 255, 255)');
    await page.getByTestId('theme-toggle').click();
    await eventually('a dark terminal', background, (color) => color === 'rgb(13, 17, 23)');
    await screenshot(page, '04c-terminal-dark');
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.getByTestId('theme-toggle').click();
    await eventually('a light terminal', background, (color) => color === 'rgb(255, 255, 255)');
  });

  it('moves between tasks with the keyboard, flags one, and takes a note, an answer and the notepad', async () => {
    expect(await page.getByTestId('task-title').innerText()).toMatch(
      /Store a setting in a ConfigMap/,
    );
    await page.keyboard.press('Alt+ArrowRight');
    await eventually(
      'task 2 to show',
      () => page.getByTestId('task-title').innerText(),
      (title) => /Service CIDR/.test(title),
    );
    await page.keyboard.press('Alt+1');
    await eventually(
      'task 1 to show again',
      () => page.getByTestId('task-title').innerText(),
      (title) => /ConfigMap/.test(title),
    );
    // Task 1 is done in the terminal: no answer box.
    expect(await page.getByTestId('task-answer').count()).toBe(0);
    await page.keyboard.press('Alt+F');
    await eventually(
      'task 1 to be flagged in the navigator',
      () => page.getByTestId('nav-task-1').getAttribute('data-flagged'),
      (flagged) => flagged === 'true',
    );
    await page.getByTestId('task-note').fill('come back: check the key name');
    await page.getByTestId('nav-task-2').click();
    await page.getByTestId('task-answer').fill('10.96.0.0/12');
    await page.getByTestId('notepad').fill('k = kubectl');
    await untilSaved(page);
    await screenshot(page, '05-task-with-answer');
    const saved = await staffView();
    expect(saved.notepad).toBe('k = kubectl');
    expect(saved.questions[0]).toMatchObject({
      flagged: true,
      note: 'come back: check the key name',
    });
    expect(saved.questions[1].answer).toBe('10.96.0.0/12');
  });

  it('finds everything again after a reload', async () => {
    await page.reload();
    await page.getByTestId('timer').waitFor();
    await page.getByTestId('nav-task-1').click();
    expect(await page.getByTestId('task-note').inputValue()).toBe('come back: check the key name');
    expect(await page.getByTestId('nav-task-1').getAttribute('data-flagged')).toBe('true');
    await page.getByTestId('nav-task-2').click();
    expect(await page.getByTestId('task-answer').inputValue()).toBe('10.96.0.0/12');
    expect(await page.getByTestId('notepad').inputValue()).toBe('k = kubectl');
  });

  it('keeps two tabs of the session consistent', async () => {
    const second = await context.newPage();
    try {
      await second.goto('/');
      await second.getByTestId('timer').waitFor();
      // Its terminal takes the shell over from the first tab's.
      await untilTerminal(second, 'connected');
      await second.getByTestId('nav-task-2').click();
      await page.getByTestId('nav-task-2').click();
      await page.getByTestId('task-note').fill('typed in the first tab');
      await untilSaved(page);
      await eventually(
        'the second tab to show the note',
        () => second.getByTestId('task-note').inputValue(),
        (note) => note === 'typed in the first tab',
      );
    } finally {
      await second.close();
    }
  });

  it('offers the terminal back to a tab whose shell another tab took over', async () => {
    await page.getByTestId('terminal-take-back').waitFor();
    expect(await page.getByTestId('terminal-status').getAttribute('data-state')).toBe('closed');
    expect(await page.getByTestId('terminal-notice').innerText()).toMatch(/another window/);
    await screenshot(page, '05a-terminal-taken-over');
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.getByTestId('terminal-take-back').click();
    await untilTerminal(page, 'connected');
    expect(await focusInTerminal(page)).toBe(true);
    await typeCommand(page, 'echo "still $X"');
    await eventually(
      'the same shell',
      () => terminalText(page),
      (text) => /^still 42$/m.test(text),
    );
  });

  it('keeps up with a flood of output, and starts a new shell after the shell exited', async () => {
    // About 2 MB at once: above the flow-control marks, so the shell is paused and resumed.
    await typeCommand(page, 'seq 1 300000; echo "done $X"');
    await eventually(
      'the flood to end',
      () => terminalText(page),
      (text) => /^300000$/m.test(text) && /^done 42$/m.test(text),
      30_000,
    );
    await typeCommand(page, 'exit');
    await page.getByTestId('terminal-new-shell').waitFor();
    expect(await page.getByTestId('terminal-notice').innerText()).toMatch(/shell exited/i);
    await page.getByTestId('terminal-new-shell').click();
    await untilTerminal(page, 'connected');
    await typeCommand(page, 'echo "new shell, X=[$X]"');
    await eventually(
      'a new shell, without the old one’s variables',
      () => terminalText(page),
      (text) => /^new shell, X=\[\]$/m.test(text),
    );
    await screenshot(page, '05b-terminal-new-shell');
  });

  it('keeps edits made offline and saves them when the connection returns', async () => {
    await context.setOffline(true);
    await page.getByTestId('nav-task-1').click();
    await page.getByTestId('task-note').fill('written offline');
    await page.getByTestId('offline-banner').waitFor();
    await eventually(
      'the offline save state',
      () => page.getByTestId('save-status').getAttribute('data-status'),
      (status) => status === 'offline',
    );
    await screenshot(page, '06-offline');
    expect((await staffView()).questions[0].note).toBe('come back: check the key name');
    await context.setOffline(false);
    await untilSaved(page, 20_000);
    expect((await staffView()).questions[0].note).toBe('written offline');
    // Back online, the terminal is connected to its shell again (if going offline dropped it).
    await untilTerminal(page, 'connected', 40_000);
  });

  it('solves task 1 with its reference solution through the downloaded kubeconfig', async () => {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('kubeconfig-download').click(),
    ]);
    const path = await download.path();
    const question = (
      (await app.t.http.get(`/api/sessions/${sessionId}`).set(bearer(trainer)).expect(200))
        .body as {
        questions: { questionId: string; solution: { commands: string[] } }[];
      }
    ).questions.find((q) => q.questionId === 'configmap-value')!;
    const kubectlDir = dirname(process.env.SANDBOX_KUBECTL!);
    for (const command of question.solution.commands) {
      await run('bash', ['-c', command], {
        env: { ...process.env, KUBECONFIG: path, PATH: `${kubectlDir}:${process.env.PATH}` },
      });
    }
  });

  it('submits through the confirmation, which lists flagged tasks, and shows the results', async () => {
    await page.getByTestId('submit-open').click();
    const dialog = page.getByTestId('submit-dialog');
    await dialog.waitFor();
    expect(await dialog.innerText()).toMatch(/flag/i);
    await screenshot(page, '07-submit-confirmation');
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.getByTestId('submit-confirm').click();
    await page.getByTestId('results').waitFor({ timeout: 90_000 });
    await eventually(
      'task 1 at full marks',
      () => page.getByTestId('result-check-1-value').getAttribute('data-status'),
      (status) => status === 'passed',
    );
    expect(await page.getByTestId('result-check-2-cidr').getAttribute('data-status')).toBe(
      'passed',
    );
    expect(await page.getByTestId('results-passed').getAttribute('data-passed')).toBe('true');
    expect(await page.getByTestId('results-percent').innerText()).toMatch(/100/);
    await screenshot(page, '08-results');
    expect(await accessibilityProblems(page)).toEqual([]);
    // The printable report opens with the cookie alone.
    const href = await page.getByTestId('report-html-link').getAttribute('href');
    const report = await page.request.get(href!);
    expect(report.status()).toBe(200);
    expect(await report.text()).toContain('Task 1: Store a setting in a ConfigMap');
  });

  it('replays the terminal recording in the staff report, with the self-hosted player', async () => {
    const staff = await app.browser.newContext({
      baseURL: app.base,
      viewport: { width: 1440, height: 900 },
      // Staff authenticate with their bearer token (no cookie).
      extraHTTPHeaders: { authorization: `Bearer ${trainer}` },
    });
    const report = await staff.newPage();
    const errors: string[] = [];
    report.on('pageerror', (error) => errors.push(error.message));
    report.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    try {
      await report.goto(`/api/sessions/${sessionId}/report.html`);
      await report.locator('#recording-player .ap-player').waitFor({ timeout: 15_000 });
      await report.getByRole('button', { name: '8×' }).click();
      expect(await report.getByRole('button', { name: '8×' }).getAttribute('aria-pressed')).toBe(
        'true',
      );
      // Play: the candidate's prompt and the kubectl command typed in the terminal come back.
      await report.locator('#recording-player .ap-player').click();
      await eventually(
        'the recording to show the candidate’s prompt',
        () => report.locator('#recording-player .ap-term').innerText(),
        (text) => text.includes('candidate@cka-exam'),
        30_000,
      );
      await report.locator('#recording-heading').scrollIntoViewIfNeeded();
      await screenshot(report, '08b-staff-report-recording');
      expect(errors).toEqual([]);
    } finally {
      await staff.close();
    }
  });

  it('has no serious accessibility problem in the dark theme either', async () => {
    await page.getByTestId('theme-toggle').click();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    await screenshot(page, '09-results-dark');
    expect(await accessibilityProblems(page)).toEqual([]);
  });
});

async function untilSaved(page: Page, timeoutMs = 10_000): Promise<void> {
  await eventually(
    'the edits to be saved',
    () => page.getByTestId('save-status').getAttribute('data-status'),
    (status) => status === 'saved',
    timeoutMs,
  );
}

describe('a console left open across the deadline', () => {
  let app: ConsoleApp;
  beforeAll(async () => {
    app = await startConsoleApp();
  });
  afterAll(() => app?.close());

  it('locks at the deadline, says time is up, and shows the results once graded', async () => {
    const { context, page, problems } = await newConsole(app, { colorScheme: 'dark' });
    try {
      await page.goto('/');
      await page.getByTestId('signin-exam-select').waitFor();
      await screenshot(page, '10-sign-in-dark');
      expect(await accessibilityProblems(page)).toEqual([]);
      await page.getByTestId('signin-exam-select').selectOption('expiring');
      await page.getByTestId('signin-name').fill('Alan');
      await page.getByTestId('signin-submit').click();
      await page.getByTestId('briefing').waitFor();
      await screenshot(page, '10-briefing-dark');
      expect(await accessibilityProblems(page)).toEqual([]);
      await eventually(
        'Begin to be enabled',
        () => page.getByTestId('begin').isEnabled(),
        (enabled) => enabled,
        30_000,
      );
      await page.getByTestId('begin').click();
      await page.getByTestId('task-answer').fill('a guess');
      await screenshot(page, '11-console-dark');
      expect(await accessibilityProblems(page)).toEqual([]);
      await page.getByTestId('locked-banner').waitFor({ timeout: 40_000 });
      expect(await page.getByTestId('locked-banner').innerText()).toMatch(/time is up/i);
      expect(await page.getByTestId('task-answer').isDisabled()).toBe(true);
      // The shell is gone; its last screen stays, saying why.
      await page.getByTestId('terminal-notice').waitFor();
      expect(await page.getByTestId('terminal-notice').innerText()).toMatch(
        /time is up|has ended/i,
      );
      expect(await page.getByTestId('terminal-status').getAttribute('data-state')).toBe('closed');
      await screenshot(page, '12-time-up');
      expect(await accessibilityProblems(page)).toEqual([]);
      await page.getByTestId('results').waitFor({ timeout: 90_000 });
      expect(await page.getByTestId('result-check-1-cidr').getAttribute('data-status')).toBe(
        'failed',
      );
      expect(await page.getByTestId('result-check-2-ready').getAttribute('data-status')).toBe(
        'failed',
      );
      await screenshot(page, '13-results-after-expiry');
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

describe('what the console does not let through', () => {
  let app: ConsoleApp;
  beforeAll(async () => {
    // And without the terminal: the pane offers the kubeconfig instead, and says why.
    app = await startConsoleApp({ TERMINAL_ENABLED: 'false' });
  });
  afterAll(() => app?.close());

  it('renders HTML in task text, titles, notes and answers as text, and links only to the docs', async () => {
    const { context, page, problems } = await newConsole(app);
    try {
      await page.goto('/');
      await page.getByTestId('signin-exam-select').selectOption('hostile');
      await page.getByTestId('signin-name').fill('<img src=x onerror="window.__xss=7">');
      await page.getByTestId('signin-submit').click();
      await eventually(
        'Begin to be enabled',
        () => page.getByTestId('begin').isEnabled(),
        (enabled) => enabled,
        30_000,
      );
      await page.getByTestId('begin').click();
      await page.getByTestId('task-text').waitFor();
      const evil = '<img src=x onerror="window.__xss=8"></textarea><script>window.__xss=9</script>';
      await page.getByTestId('task-note').fill(evil);
      await page.getByTestId('task-answer').fill(evil);
      await page.getByTestId('notepad').fill(evil);
      await untilSaved(page);
      await page.reload();
      await page.getByTestId('task-text').waitFor();
      await page.getByTestId('terminal-unavailable').waitFor();
      expect(await page.getByTestId('terminal-unavailable').innerText()).toMatch(
        /not available: the terminal is turned off on this server/,
      );
      await page.getByTestId('kubeconfig-download').waitFor();
      await screenshot(page, '14-hostile-task');

      const text = await page.getByTestId('task-text').innerText();
      expect(text).toContain('<img src=x onerror="window.__xss=2">');
      expect(await page.getByTestId('task-title').innerText()).toContain('<img src=x');
      expect(await page.getByTestId('task-note').inputValue()).toBe(evil);
      // Nothing became an element or ran.
      expect(await page.locator('img[src="x"]').count()).toBe(0);
      expect(await page.locator('main script').count()).toBe(0);
      expect(await page.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined();
      // Only the allowed documentation is a link, and it opens in a new tab.
      const links = await page
        .getByTestId('task-text')
        .locator('a')
        .evaluateAll((as) => as.map((a) => [a.getAttribute('href'), a.getAttribute('target')]));
      expect(links).toEqual([['https://kubernetes.io/docs/home/', '_blank']]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('refuses what another site asks with the candidate’s cookie', async () => {
    const { context, page } = await newConsole(app);
    try {
      await page.goto('/');
      await page.getByTestId('signin-exam-select').selectOption('open-long');
      await page.getByTestId('signin-name').fill('Ada');
      await page.getByTestId('signin-submit').click();
      await page.getByTestId('briefing').waitFor();
      // A page of another origin (localhost is another site than 127.0.0.1).
      const other = app.base.replace('127.0.0.1', 'localhost');
      const evilPage = await context.newPage();
      await evilPage.goto(`${other}/`);
      const status = await evilPage.evaluate(async (target) => {
        const res = await fetch(`${target}/api/sessions/me/submit`, {
          method: 'POST',
          credentials: 'include',
          mode: 'no-cors',
        }).catch(() => undefined);
        return res ? res.type : 'blocked';
      }, app.base);
      // An opaque answer at most: the browser sent no cookie (SameSite=Strict).
      expect(['opaque', 'blocked']).toContain(status);
      const me = await page.request.get('/api/sessions/me');
      expect(((await me.json()) as { state: string }).state).not.toBe('submitted');
    } finally {
      await context.close();
    }
  });
});

describe('a dedicated exam on a machine with no room left', () => {
  let app: ConsoleApp;
  let clustersDir: string;
  beforeAll(async () => {
    clustersDir = await mkdtemp(join(tmpdir(), 'cka-browser-clusters-'));
    // The sandbox provider for real, with all of the machine's memory kept in
    // reserve: no cluster fits, so the session waits for one in the queue.
    app = await startConsoleApp({
      QUESTIONS_DIR: join(REPO_ROOT, 'test/fixtures/banks/dedicated'),
      CLUSTER_PROVIDER: 'sandbox',
      SANDBOX_CLUSTERS_DIR: clustersDir,
      SANDBOX_TRUSTED_CANDIDATES: 'true',
      POOL_SIZE: '0',
      CLUSTER_MEMORY_RESERVE_MB: '1048576',
    });
  });
  afterAll(async () => {
    await app?.close();
    if (clustersDir) await rm(clustersDir, { recursive: true, force: true });
  });

  it('shows the candidate their place in the queue while the environment waits for room', async () => {
    const { context, page, problems } = await newConsole(app);
    try {
      await page.goto('/');
      await page.getByTestId('signin-exam-select').selectOption('dedicated-e2e');
      await page.getByTestId('signin-name').fill('Ada');
      await page.getByTestId('signin-submit').click();
      await page.getByTestId('briefing').waitFor();
      await page.getByTestId('queue-position').waitFor({ timeout: 60_000 });
      expect(await page.getByTestId('queue-position').innerText()).toMatch(
        /Every environment on this server is in use: yours is next\./,
      );
      // It cannot begin before its clusters exist; the briefing says how they are reached.
      expect(await page.getByTestId('begin').isEnabled()).toBe(false);
      expect(await page.getByTestId('briefing-dedicated').innerText()).toMatch(
        /you are cluster-admin, and ssh <node> opens a root shell on a node/,
      );
      expect(await page.getByTestId('briefing').innerText()).not.toMatch(/kubeconfig/);
      await screenshot(page, '15-dedicated-queue');
      expect(await accessibilityProblems(page)).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
