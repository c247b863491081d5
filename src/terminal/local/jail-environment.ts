import { parse, stringify } from 'yaml';
import type { RelayTarget } from './api-relay.js';

/** Inside the jail the candidate is this user, whatever outer uid runs the jail. */
export const JAIL_USER = { name: 'candidate', uid: 1000, gid: 1000, home: '/home/candidate' };
/** Where the jail finds its relay sockets and the engine's read-only files. */
export const JAIL_RELAY_DIR = '/run/cka';
export const JAIL_ETC_DIR = '/etc/cka';

export interface JailRelay {
  /** The loopback port the relay listens on inside the jail. */
  port: number;
  target: RelayTarget;
}

interface KubeconfigCluster {
  name: string;
  cluster: { server: string; 'tls-server-name'?: string; [key: string]: unknown };
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1']);

/**
 * The candidate's kubeconfig as the jail needs it: each API server becomes a
 * loopback address inside the jail (the same port when it already was
 * loopback, so nothing visible changes for the sandbox), and a server that
 * was named otherwise keeps its name for TLS through `tls-server-name`.
 */
export function jailKubeconfig(kubeconfig: string): { text: string; relays: JailRelay[] } {
  const config = parse(kubeconfig) as { clusters?: KubeconfigCluster[] };
  const relays: JailRelay[] = [];
  const byTarget = new Map<string, JailRelay>();
  let nextPort = 16443;
  for (const entry of config.clusters ?? []) {
    const url = new URL(entry.cluster.server);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const target: RelayTarget = {
      host,
      port: Number(url.port) || (url.protocol === 'http:' ? 80 : 443),
    };
    const key = `${target.host}:${target.port}`;
    let relay = byTarget.get(key);
    if (!relay) {
      const wanted = LOOPBACK_NAMES.has(host) ? target.port : 0;
      const port =
        wanted && !relays.some((r) => r.port === wanted)
          ? wanted
          : (() => {
              while (relays.some((r) => r.port === nextPort)) nextPort++;
              return nextPort++;
            })();
      relay = { port, target };
      relays.push(relay);
      byTarget.set(key, relay);
    }
    // Go verifies an IP given as the server name against the certificate's IP SANs.
    if (!LOOPBACK_NAMES.has(host)) entry.cluster['tls-server-name'] ??= host;
    url.hostname = '127.0.0.1';
    url.port = String(relay.port);
    entry.cluster.server = url.toString().replace(/\/$/, '');
  }
  return { text: stringify(config), relays };
}

export function passwdFile(): string {
  return [
    'root:x:0:0:root:/root:/usr/sbin/nologin',
    `${JAIL_USER.name}:x:${JAIL_USER.uid}:${JAIL_USER.gid}:CKA candidate:${JAIL_USER.home}:/bin/bash`,
    'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
    '',
  ].join('\n');
}

export function groupFile(): string {
  return ['root:x:0:', `${JAIL_USER.name}:x:${JAIL_USER.gid}:`, 'nogroup:x:65534:', ''].join('\n');
}

export function hostsFile(hostname: string): string {
  return `127.0.0.1\tlocalhost ${hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n`;
}

/**
 * The system-wide bashrc of the jail: what the real exam's terminal has
 * (`k` for kubectl, completion for both, vim as the editor) and a prompt that
 * names the exam host. The candidate's own ~/.bashrc runs after it.
 */
export function bashrc(): string {
  return `# The CKA mock exam's shell (written by the engine; your own settings go in ~/.bashrc).
[ -z "$PS1" ] && return
shopt -s checkwinsize histappend
HISTSIZE=10000
HISTFILESIZE=20000
export EDITOR=vim KUBE_EDITOR=vim PAGER=less LESS=-R
PS1='\\[\\e[1;32m\\]\\u@\\h\\[\\e[0m\\]:\\[\\e[1;34m\\]\\w\\[\\e[0m\\]\\$ '
if [ -f /usr/share/bash-completion/bash_completion ]; then
  . /usr/share/bash-completion/bash_completion
fi
if [ -f ${JAIL_ETC_DIR}/kubectl-completion.bash ]; then
  . ${JAIL_ETC_DIR}/kubectl-completion.bash
  complete -o default -F __start_kubectl k
fi
if [ -s ${JAIL_ETC_DIR}/helm-completion.bash ]; then
  . ${JAIL_ETC_DIR}/helm-completion.bash
fi
alias k=kubectl
alias ls='ls --color=auto'
`;
}

/** ~/.bashrc and ~/.vimrc for a new home (the candidate may change them). */
export const HOME_FILES: Record<string, string> = {
  '.bashrc': "# Your settings. The exam's (alias k=kubectl, completion) are in /etc/bash.bashrc.\n",
  '.vimrc': 'set expandtab tabstop=2 shiftwidth=2 autoindent\nsyntax on\n',
};

/**
 * The jail's first process after bwrap's init: starts one loopback relay per
 * API server (each in its own session, so Ctrl+C in the shell does not stop
 * it), then becomes the candidate's interactive bash. Arguments: `port=socket`.
 */
export function initScript(): string {
  return `#!/bin/sh
for relay in "$@"; do
  setsid -f socat TCP-LISTEN:"\${relay%%=*}",bind=127.0.0.1,reuseaddr,fork UNIX-CONNECT:"\${relay#*=}" </dev/null >/dev/null 2>&1
done
cd "$HOME" || exit 1
exec /bin/bash -i
`;
}
