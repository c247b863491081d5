import { useEffect, useRef, useState } from 'preact/hooks';
import { api, KUBECONFIG_URL, type TerminalAvailability } from '../api.js';
import { session } from '../store.js';
import { CopyButton } from './CopyButton.js';
import { WebTerminal } from './WebTerminal.js';

const COMMANDS = ['export KUBECONFIG=~/Downloads/kubeconfig', 'kubectl config get-contexts'];

/**
 * The right-hand pane: the in-browser terminal where the engine runs shells;
 * elsewhere (or when it cannot say), the session's kubeconfig for the
 * candidate's own terminal, with why.
 */
export function TerminalPane({ locked }: { locked: boolean }) {
  const [availability, setAvailability] = useState<TerminalAvailability | null>(null);
  // A terminal that was in use stays on screen (read-only) once the exam is over.
  const shown = useRef(false);

  useEffect(() => {
    let cancelled = false;
    api.terminal().then(
      (answer) => {
        if (!cancelled) setAvailability(answer);
      },
      (error: unknown) => {
        if (!cancelled)
          setAvailability({
            available: false,
            reason: error instanceof Error ? error.message : String(error),
          });
      },
    );
    return () => {
      cancelled = true;
    };
  }, []);

  if (availability?.available && (!locked || shown.current)) {
    shown.current = true;
    return <WebTerminal locked={locked} />;
  }

  return (
    <section class="terminal-pane" aria-labelledby="terminal-heading" data-testid="terminal-pane">
      <h2 id="terminal-heading" class="terminal-pane__title">
        Terminal
      </h2>
      {locked ? (
        <p>Access to the exam clusters has ended.</p>
      ) : availability === null ? (
        <p class="terminal-pane__hint" role="status">
          Opening the terminal…
        </p>
      ) : session.value?.environment === 'dedicated' ? (
        <p class="terminal-pane__hint" data-testid="terminal-unavailable">
          The in-browser terminal is not available
          {availability.reason ? `: ${availability.reason}` : ''}. This exam's clusters are reached
          through it only; ask the exam's organiser.
        </p>
      ) : (
        <>
          <p class="terminal-pane__hint" data-testid="terminal-unavailable">
            The in-browser terminal is not available
            {availability.reason ? `: ${availability.reason}` : ''}.
          </p>
          <p>
            Work in your own terminal with <code>kubectl</code>: this session's kubeconfig gives you
            one context per cluster the tasks name.
          </p>
          <ol class="terminal-pane__steps">
            <li>
              <a
                class="btn btn--primary"
                href={KUBECONFIG_URL}
                download="kubeconfig"
                data-testid="kubeconfig-download"
              >
                Download kubeconfig
              </a>
            </li>
            {COMMANDS.map((command) => (
              <li key={command}>
                <div class="command">
                  <code>{command}</code>
                  <CopyButton text={command} what={`the command ${command}`} />
                </div>
              </li>
            ))}
          </ol>
          <p class="terminal-pane__hint">
            Each task starts by naming its context: switch with{' '}
            <code>{'kubectl config use-context <name>'}</code> before you work on it.
          </p>
        </>
      )}
    </section>
  );
}
