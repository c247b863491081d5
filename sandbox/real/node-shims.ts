/**
 * `systemctl` and `journalctl` for a node without systemd: kubeadm restarts
 * the kubelet through `systemctl`, and a candidate on the node types
 * `systemctl restart kubelet` and `journalctl -u kubelet` as on a real
 * machine. systemctl asks the node's supervisor (the launcher) over the
 * node's /run/cka/supervisor.sock; journalctl reads the logs the supervisor
 * appends to /var/log/cka/<unit>.log.
 */

export const SUPERVISOR_SOCKET = '/run/cka/supervisor.sock';

export const SYSTEMCTL = `#!/bin/sh
# systemctl on a sandbox node: the node's supervisor answers (see sandbox/real/supervisor.ts).
verb=""
unit=""
for arg in "$@"; do
  case "$arg" in
    -*) ;;
    *) if [ -z "$verb" ]; then verb=$arg; elif [ -z "$unit" ]; then unit=$arg; fi ;;
  esac
done
if [ -z "$verb" ]; then
  echo "usage: systemctl {start|stop|restart|status|is-active|is-enabled|enable|daemon-reload} [unit]" >&2
  exit 1
fi
out=$(printf '%s %s\\n' "$verb" "$unit" | socat -t 60 - UNIX-CONNECT:${SUPERVISOR_SOCKET} 2>/dev/null)
if [ -z "$out" ]; then
  echo "System has not been booted with systemd as init system, and the node's supervisor does not answer." >&2
  exit 1
fi
code=$(printf '%s\\n' "$out" | sed -n 's/^exit //p' | tail -n 1)
printf '%s\\n' "$out" | sed '$d'
exit "\${code:-1}"
`;

export const JOURNALCTL = `#!/bin/sh
# journalctl on a sandbox node: -u <unit> [-n N] [-f] [-e] [-x], from /var/log/cka/<unit>.log.
unit=""
lines=""
follow=""
while [ $# -gt 0 ]; do
  case "$1" in
    -u|--unit) unit=$2; shift ;;
    --unit=*) unit=\${1#--unit=} ;;
    -n|--lines) lines=$2; shift ;;
    --lines=*) lines=\${1#--lines=} ;;
    -f|--follow) follow=1 ;;
    -e|--pager-end) [ -z "$lines" ] && lines=1000 ;;
    -*u) unit=$2; shift; case "$1" in *f*) follow=1 ;; esac ;;
    *) ;;
  esac
  shift
done
if [ -z "$unit" ]; then
  echo "journalctl here shows one unit's log: journalctl -u kubelet (or containerd)" >&2
  exit 1
fi
log="/var/log/cka/\${unit%.service}.log"
if [ ! -e "$log" ]; then
  echo "-- No entries --"
  exit 0
fi
if [ -n "$follow" ]; then exec tail -n "\${lines:-10}" -F "$log"; fi
if [ -n "$lines" ]; then exec tail -n "$lines" "$log"; fi
exec cat "$log"
`;
