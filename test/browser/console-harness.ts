import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { isolatedEnv, REPO_ROOT, startTestApp, type TestApp } from '../support/app.js';

/** Where the suite writes its screenshots (git-ignored): look at them. */
export const SCREENSHOTS = join(REPO_ROOT, 'test-results', 'browser');
const WEB_ROOT = join(REPO_ROOT, 'dist', 'web');

/** Debian's Chromium (the test script installs it); no browser download. */
export function chromiumPath(): string {
  const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(path))
    throw new Error(`no Chromium at ${path}: install Debian's chromium (scripts/test.sh does)`);
  return path;
}

export interface ConsoleApp {
  t: TestApp;
  base: string;
  browser: Browser;
  close: () => Promise<void>;
}

/**
 * The engine (HTTP and workers, on the sandbox) serving the built console and
 * the browser terminal, listening on a loopback port, and a headless Chromium.
 */
export async function startConsoleApp(overrides: Record<string, string> = {}): Promise<ConsoleApp> {
  if (!existsSync(join(WEB_ROOT, 'index.html')))
    throw new Error(`the console is not built (${WEB_ROOT}): run npm run build first`);
  await mkdir(SCREENSHOTS, { recursive: true });
  // The browser terminal on (isolatedEnv turns it off): a jailed shell per session.
  const t = await startTestApp(
    await isolatedEnv({ WEB_ROOT, TERMINAL_ENABLED: 'true', ...overrides }),
  );
  await t.app.listen(0, '127.0.0.1');
  const base = (await t.app.getUrl()).replace('[::1]', '127.0.0.1');
  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    // Root in a container has no user namespaces for Chromium's sandbox.
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
  return {
    t,
    base,
    browser,
    close: async () => {
      await browser.close().catch(() => undefined);
      await t.close();
    },
  };
}

/** A fresh browser profile (its own cookies and storage) that records CSP violations and page errors. */
export async function newConsole(
  app: ConsoleApp,
  options: { colorScheme?: 'light' | 'dark' } = {},
): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await app.browser.newContext({
    baseURL: app.base,
    viewport: { width: 1440, height: 900 },
    colorScheme: options.colorScheme ?? 'light',
    // For the terminal's Ctrl+Shift+C and Ctrl+Shift+V, and for reading what they did.
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  // "Leave this exam?" before a reload is the console's own; any other dialog
  // (an alert) would be injected script running.
  page.on('dialog', (dialog) => {
    if (dialog.type() !== 'beforeunload')
      problems.push(`dialog: ${dialog.type()} ${dialog.message()}`);
    void dialog.accept();
  });
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/.test(message.text()))
      problems.push(`CSP: ${message.text()}`);
  });
  return { context, page, problems };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: false });
}

/** axe's serious and critical violations on the page as it is now (both are failures here). */
export async function accessibilityProblems(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help} — ${v.nodes
          .slice(0, 3)
          .map((n) => n.target.join(' '))
          .join(', ')}`,
    );
}

/** The terminal's screen as text, one line per row (xterm's DOM renderer draws rows as elements). */
export async function terminalText(page: Page): Promise<string> {
  return page.evaluate(() =>
    [...document.querySelectorAll('[data-testid="terminal-screen"] .xterm-rows > div')]
      .map((row) => (row.textContent ?? '').replace(/\u00a0/g, ' ').trimEnd())
      .join('\n'),
  );
}

/** Waits for the terminal's connection indicator to show `state`. */
export async function untilTerminal(page: Page, state: string, timeoutMs = 30_000): Promise<void> {
  await page
    .locator(`[data-testid="terminal-status"][data-state="${state}"]`)
    .waitFor({ timeout: timeoutMs });
}

/** Types a command line into the terminal (which must have the focus) and runs it. */
export async function typeCommand(page: Page, command: string): Promise<void> {
  await page.keyboard.type(command);
  await page.keyboard.press('Enter');
}

/** Whether the keyboard focus is in the terminal (xterm's hidden input). */
export async function focusInTerminal(page: Page): Promise<boolean> {
  return page.evaluate(
    () => document.activeElement?.classList.contains('xterm-helper-textarea') ?? false,
  );
}
