import '@xterm/xterm/css/xterm.css';
import { effect } from '@preact/signals';
import type { Terminal } from '@xterm/xterm';
import { useEffect, useRef, useState } from 'preact/hooks';
import { KUBECONFIG_URL } from '../api.js';
import { browserTimers } from '../backoff.js';
import { copyText } from '../clipboard.js';
import { theme, zoom } from '../prefs.js';
import { session } from '../store.js';
import {
  type LinkState,
  type LinkStatus,
  openWebSocket,
  TerminalConnection,
} from '../terminal-connection.js';
import { terminalKeyFor } from '../terminal-keys.js';
import { terminalUrl } from '../terminal-protocol.js';
import { TERMINAL_FONT_FAMILY, terminalColors, terminalFontSize } from '../terminal-theme.js';
import { type MenuItem, TerminalMenu } from './TerminalMenu.js';

const ENDED = 'Access to the exam clusters has ended.';
const FLASH_MS = 4000;

const LINK_TEXT: Record<LinkState, string> = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  closed: 'Closed',
};

/** xterm.js and its addons: loaded with the console, not with the sign-in page. */
async function loadXterm() {
  const [{ Terminal }, { FitAddon }, { WebLinksAddon }] = await Promise.all([
    import('@xterm/xterm'),
    import('@xterm/addon-fit'),
    import('@xterm/addon-web-links'),
  ]);
  return { Terminal, FitAddon, WebLinksAddon };
}

interface Live {
  term: Terminal;
  connection: TerminalConnection;
}

/**
 * The in-browser terminal: xterm.js on the session's shell over the
 * engine's WebSocket. It fits its pane, follows the console's theme and text
 * size, survives reloads and drops (the server replays the recent screen),
 * and says when it is connected, reconnecting or closed, and why.
 */
export function WebTerminal({ locked }: { locked: boolean }) {
  const pane = useRef<HTMLElement>(null);
  const host = useRef<HTMLDivElement>(null);
  const live = useRef<Live | null>(null);
  const lockedRef = useRef(locked);
  lockedRef.current = locked;
  const [link, setLink] = useState<LinkStatus | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [menuAt, setMenuAt] = useState<{ x: number; y: number } | null>(null);
  // With when it was raised, so that the same words twice are shown (and announced) twice.
  const [flash, setFlashState] = useState<{ text: string; at: number } | null>(null);
  const setFlash = (text: string) => setFlashState({ text, at: performance.now() });
  const [hasSelection, setHasSelection] = useState(false);

  useEffect(() => {
    if (!flash) return;
    const timer = setTimeout(() => setFlashState(null), FLASH_MS);
    return () => clearTimeout(timer);
  }, [flash]);

  /** Opens the menu at a point of the page (a right click), or at the screen's top left. */
  const openMenu = (clientX?: number, clientY?: number) => {
    const paneRect = pane.current?.getBoundingClientRect();
    const screenRect = host.current?.getBoundingClientRect();
    if (!paneRect || !screenRect) return;
    setHasSelection(live.current?.term.hasSelection() ?? false);
    setMenuAt({
      x: (clientX ?? screenRect.left + 24) - paneRect.left,
      y: (clientY ?? screenRect.top + 24) - paneRect.top,
    });
  };

  const copy = () => {
    const text = live.current?.term.getSelection() ?? '';
    if (!text) {
      setFlash('Nothing to copy: select text first (drag over it, or Select all).');
      return;
    }
    void copyText(text).then((copied) =>
      setFlash(copied ? 'Copied' : 'Could not copy: the browser refused the clipboard.'),
    );
  };

  const paste = () => {
    const term = live.current?.term;
    if (!term) return;
    term.focus();
    // No clipboard API outside a secure context (plain HTTP on a LAN): hence the first then.
    void Promise.resolve()
      .then(() => navigator.clipboard.readText())
      .then(
        (text) => {
          if (text && !term.options.disableStdin) term.paste(text);
        },
        () =>
          setFlash(
            'The browser did not let the console read the clipboard: paste with Shift+Insert instead.',
          ),
      );
  };

  const openMenuRef = useRef(openMenu);
  openMenuRef.current = openMenu;
  const copyRef = useRef(copy);
  copyRef.current = copy;
  const pasteRef = useRef(paste);
  pasteRef.current = paste;

  useEffect(() => {
    let disposed = false;
    let dispose: (() => void) | null = null;
    loadXterm().then(
      (xterm) => {
        const element = host.current;
        if (disposed || !element) return;
        const term = new xterm.Terminal({
          fontFamily: TERMINAL_FONT_FAMILY,
          fontSize: terminalFontSize(zoom.peek()),
          lineHeight: 1.1,
          theme: terminalColors(theme.peek()),
          cursorBlink: true,
          scrollback: 5000,
          // ANSI colours picked for one background can be unreadable on the other.
          minimumContrastRatio: 4.5,
          // The console's menu takes the right click.
          rightClickSelectsWord: false,
        });
        const fit = new xterm.FitAddon();
        term.loadAddon(fit);
        term.loadAddon(new xterm.WebLinksAddon());
        term.open(element);
        fit.fit();

        const connection = new TerminalConnection({
          open: (size, events) => openWebSocket(terminalUrl(window.location, size), events),
          size: () => ({ cols: term.cols, rows: term.rows }),
          write: (bytes, written) => term.write(bytes, written),
          onStatus: (status) => setLink(status),
          timers: browserTimers,
          now: () => performance.now(),
        });
        live.current = { term, connection };

        const encoder = new TextEncoder();
        const subscriptions = [
          term.onData((data) => connection.input(encoder.encode(data))),
          // Bytes as characters 0–255 (mouse reports in legacy modes): sent as they are.
          term.onBinary((data) =>
            connection.input(Uint8Array.from(data, (c) => c.charCodeAt(0) & 0xff)),
          ),
          term.onResize((size) => connection.resize(size)),
          term.onSelectionChange(() => setHasSelection(term.hasSelection())),
        ];
        term.attachCustomKeyEventHandler((event) => {
          const action = terminalKeyFor(event);
          if (!action) return true;
          // Keydown acts; its keypress and keyup are kept from xterm too (false).
          if (event.type === 'keydown') {
            if (action === 'copy') copyRef.current();
            else if (action === 'paste') pasteRef.current();
            else if (action === 'menu') openMenuRef.current();
            // Shift+Tab: the browser's default moves the focus out of the terminal.
            if (action !== 'leave') event.preventDefault();
          }
          return false;
        });

        const onContextMenu = (event: MouseEvent) => {
          event.preventDefault();
          openMenuRef.current(event.clientX, event.clientY);
        };
        element.addEventListener('contextmenu', onContextMenu);

        let frame = 0;
        const refit = () => {
          cancelAnimationFrame(frame);
          frame = requestAnimationFrame(() => {
            // A pane with no size (hidden, being laid out) has no dimensions to fit.
            if (element.clientWidth > 0 && element.clientHeight > 0) fit.fit();
          });
        };
        const observer = new ResizeObserver(refit);
        observer.observe(element);
        const stopFollowingPrefs = effect(() => {
          term.options.theme = terminalColors(theme.value);
          term.options.fontSize = terminalFontSize(zoom.value);
          refit();
        });

        // Back online: no need to wait for the next attempt.
        const onOnline = () => {
          if (connection.current.state === 'reconnecting') connection.reconnect();
        };
        window.addEventListener('online', onOnline);

        if (lockedRef.current) {
          term.options.disableStdin = true;
          connection.stop(ENDED);
        } else {
          connection.start();
        }

        dispose = () => {
          window.removeEventListener('online', onOnline);
          element.removeEventListener('contextmenu', onContextMenu);
          observer.disconnect();
          cancelAnimationFrame(frame);
          stopFollowingPrefs();
          for (const subscription of subscriptions) subscription.dispose();
          connection.stop();
          term.dispose();
          live.current = null;
        };
      },
      (error: unknown) => {
        if (!disposed) setLoadError(error instanceof Error ? error.message : String(error));
      },
    );
    return () => {
      disposed = true;
      dispose?.();
    };
  }, []);

  // At the deadline (or a submit) the shell is gone; its last screen stays for reference.
  const ready = link !== null;
  useEffect(() => {
    const current = live.current;
    if (!locked || !current) return;
    const { connection, term } = current;
    const status = connection.current;
    connection.stop(status.stopped === 'ended' && status.message ? status.message : ENDED);
    term.options.disableStdin = true;
    term.options.cursorBlink = false;
    setMenuAt(null);
  }, [locked, ready]);

  const act = (run: () => void) => () => {
    run();
    live.current?.term.focus();
  };
  const reconnect = () => live.current?.connection.reconnect();

  const state: LinkState = link?.state ?? 'connecting';
  const rtt = state === 'connected' && link?.rttMs != null ? link.rttMs : null;

  const items: MenuItem[] = [
    {
      label: 'Copy',
      keys: 'Ctrl+Shift+C',
      disabled: !hasSelection,
      testId: 'terminal-menu-copy',
      run: copy,
    },
    {
      label: 'Paste',
      keys: 'Ctrl+Shift+V',
      disabled: locked,
      testId: 'terminal-menu-paste',
      run: paste,
    },
    {
      label: 'Select all',
      testId: 'terminal-menu-select-all',
      run: () => live.current?.term.selectAll(),
    },
    {
      label: 'Clear',
      testId: 'terminal-menu-clear',
      run: () => live.current?.term.clear(),
    },
  ];

  return (
    <section
      ref={pane}
      class="terminal-pane terminal-pane--live"
      aria-labelledby="terminal-heading"
      data-testid="terminal-pane"
    >
      <div class="terminal-pane__bar">
        <h2 id="terminal-heading" class="terminal-pane__title">
          Terminal
        </h2>
        <p
          class={`terminal-link terminal-link--${state}`}
          data-testid="terminal-status"
          data-state={state}
          title={rtt !== null ? `Round trip ${rtt} ms` : undefined}
        >
          <span class="terminal-link__dot" aria-hidden="true" />
          {LINK_TEXT[state]}
          {rtt !== null && <span class="visually-hidden">, round trip {rtt} ms</span>}
        </p>
        <p class="terminal-pane__flash" role="status" data-testid="terminal-flash">
          {flash?.text}
        </p>
        <div class="terminal-pane__tools">
          <button
            type="button"
            class="terminal-pane__tool"
            data-testid="terminal-reconnect"
            disabled={locked || !ready}
            onClick={reconnect}
          >
            Reconnect
          </button>
          <button
            type="button"
            class="terminal-pane__tool"
            aria-haspopup="menu"
            aria-expanded={menuAt !== null}
            data-testid="terminal-menu-button"
            disabled={!ready}
            onClick={(event) => {
              const rect = event.currentTarget.getBoundingClientRect();
              openMenu(rect.left, rect.bottom + 4);
            }}
          >
            <span aria-hidden="true">⋯</span>
            <span class="visually-hidden">Terminal menu</span>
          </button>
          {!locked && session.value?.environment !== 'dedicated' && (
            <a
              class="terminal-pane__tool"
              href={KUBECONFIG_URL}
              download="kubeconfig"
              title="This session's kubeconfig, for kubectl in your own terminal"
              data-testid="kubeconfig-download"
            >
              Kubeconfig
            </a>
          )}
        </div>
      </div>
      <div class="terminal-pane__body">
        <div ref={host} class="terminal-pane__screen" data-terminal data-testid="terminal-screen" />
        <div class="terminal-pane__notices" role="status">
          <Notice link={link} locked={locked} loadError={loadError} onTakeBack={act(reconnect)} />
        </div>
      </div>
      {menuAt && (
        <TerminalMenu
          at={menuAt}
          items={items}
          onClose={(refocus) => {
            setMenuAt(null);
            if (refocus) live.current?.term.focus();
          }}
        />
      )}
    </section>
  );
}

const ACTIONS = {
  'taken-over': { label: 'Use the terminal here', testId: 'terminal-take-back' },
  'shell-exited': { label: 'Start a new shell', testId: 'terminal-new-shell' },
  'not-available': { label: 'Try again', testId: 'terminal-retry' },
} as const;

/** Why the terminal is not connected, and what the candidate can do about it. */
function Notice({
  link,
  locked,
  loadError,
  onTakeBack,
}: {
  link: LinkStatus | null;
  locked: boolean;
  loadError: string | null;
  onTakeBack: () => void;
}) {
  if (loadError) {
    return (
      <div
        class="terminal-pane__notice terminal-pane__notice--closed"
        data-testid="terminal-notice"
      >
        <p>The terminal could not load ({loadError}). Reload the page to try again.</p>
      </div>
    );
  }
  if (!link || link.state === 'connected' || link.state === 'connecting' || !link.message) {
    return null;
  }
  const action = !locked && link.stopped && link.stopped !== 'ended' ? ACTIONS[link.stopped] : null;
  return (
    <div
      class={`terminal-pane__notice terminal-pane__notice--${link.state}`}
      data-testid="terminal-notice"
      data-reason={link.stopped ?? link.state}
    >
      <p>
        {link.message}
        {link.state === 'reconnecting' && ' Reconnecting…'}
      </p>
      {action && (
        <button
          type="button"
          class="btn btn--primary btn--small"
          data-testid={action.testId}
          onClick={onTakeBack}
        >
          {action.label}
        </button>
      )}
    </div>
  );
}
