import { KUBECONFIG_URL } from '../api.js';
import { CopyButton } from './CopyButton.js';

const COMMANDS = ['export KUBECONFIG=~/Downloads/kubeconfig', 'kubectl config get-contexts'];

/**
 * Where the in-browser terminal will go. Until then: the session's
 * kubeconfig, for the candidate's own terminal.
 */
export function TerminalPane({ locked }: { locked: boolean }) {
  return (
    <section class="terminal" aria-labelledby="terminal-heading" data-testid="terminal-pane">
      <h2 id="terminal-heading" class="terminal__title">
        Terminal
      </h2>
      {locked ? (
        <p>Access to the exam clusters has ended.</p>
      ) : (
        <>
          <p>
            Work in your own terminal with <code>kubectl</code>: this session's kubeconfig gives you
            one context per cluster the tasks name.
          </p>
          <ol class="terminal__steps">
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
          <p class="terminal__hint">
            Each task starts by naming its context: switch with{' '}
            <code>{'kubectl config use-context <name>'}</code> before you work on it.
          </p>
        </>
      )}
    </section>
  );
}
