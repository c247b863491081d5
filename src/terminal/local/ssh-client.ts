import { JAIL_RELAY_DIR } from './jail-environment.js';

/** In the jail's relay folder: which relay socket (`n<i>.sock`) is which cluster's node. */
export const NODE_SHELLS_FILE = 'nodes.json';

/** `{ "k8s-c1/controlplane": "n0.sock", … }`, in the order the relays were made. */
export function nodeShellIndex(shells: { cluster: string; node: string }[]): string {
  return JSON.stringify(
    Object.fromEntries(shells.map((s, i) => [`${s.cluster}/${s.node}`, `n${i}.sock`])),
  );
}

/**
 * `ssh` inside the jail (Python 3 from the system's /usr): `ssh <node>
 * [command]` opens a root shell on, or runs a command on, a node of the
 * cluster of the current kubectl context (`ssh <cluster>/<node>` names
 * another), through the node's relay socket; the frames are those of
 * sandbox/real/node-shell.ts. The usual ssh options are accepted and
 * ignored (-t forces a terminal, -T refuses one), so habits and scripts work.
 * `relayDir` is where it finds the relays (bank:test runs it outside a jail).
 */
export function sshClientScript(relayDir = JAIL_RELAY_DIR): string {
  return `#!/usr/bin/python3
# ssh for the exam terminal: a node of your cluster, without sshd (written by the engine).
import json, os, select, signal, socket, struct, subprocess, sys, termios, tty

RELAY = ${JSON.stringify(relayDir)}
WITH_VALUE = set('-o -i -p -l -F -J -L -R -D -E -c -m -b -e -I -O -Q -S -W -w -B'.split())

def die(message, code=255):
    sys.stderr.write(message + '\\n')
    sys.exit(code)

args = sys.argv[1:]
force_tty = no_tty = False
host = None
command = []
i = 0
while i < len(args):
    arg = args[i]
    if host is None and arg.startswith('-'):
        if arg.startswith('-t'):
            force_tty = True
        elif arg == '-T':
            no_tty = True
        elif arg in WITH_VALUE:
            i += 1
        i += 1
        continue
    if host is None:
        host = arg
    else:
        command = args[i:]
        break
    i += 1
if host is None:
    die("usage: ssh <node> [command ...]  (a node of the current context's cluster, or <cluster>/<node>)")
host = host.split('@')[-1]
if '/' in host:
    cluster, node = host.split('/', 1)
else:
    try:
        cluster = subprocess.run(['kubectl', 'config', 'current-context'], capture_output=True,
                                 text=True, timeout=10).stdout.strip()
    except Exception:
        cluster = ''
    node = host
try:
    with open('%s/${NODE_SHELLS_FILE}' % RELAY) as index:
        shells = json.load(index)
except (OSError, ValueError):
    shells = {}
path = shells.get('%s/%s' % (cluster, node))
if not path:
    known = sorted(key.split('/', 1)[1] for key in shells if key.startswith(cluster + '/'))
    hint = (' (nodes of %s: %s)' % (cluster, ', '.join(known))) if known else ''
    die('ssh: Could not resolve hostname %s: Name or service not known%s' % (host, hint))
path = '%s/%s' % (RELAY, path)

interactive = (force_tty or not command) and not no_tty and sys.stdin.isatty()
conn = socket.socket(socket.AF_UNIX)
try:
    conn.connect(path)
except OSError as error:
    die('ssh: connect to host %s: %s' % (node, error.strerror))

def send(kind, payload=b''):
    conn.sendall(kind + struct.pack('>I', len(payload)) + payload)

def size():
    try:
        columns, lines = os.get_terminal_size(sys.stdout.fileno())
        return columns, lines
    except OSError:
        return 80, 24

def write_all(fd, data):
    while data:
        data = data[os.write(fd, data):]

columns, lines = size()
send(b'H', json.dumps({'cols': columns, 'rows': lines, 'tty': interactive,
                       'term': os.environ.get('TERM', 'xterm-256color'),
                       'command': ' '.join(command) if command else None}).encode())
saved = None
resized = []
if interactive:
    saved = termios.tcgetattr(0)
    tty.setraw(0)
    # The handler only notes it: a frame sent from inside it could land in the middle of another.
    signal.signal(signal.SIGWINCH, lambda *_: resized.append(True))
code = 255
buffered = b''
stdin_open = True
done = False
try:
    while not done:
        if resized:
            del resized[:]
            send(b'R', json.dumps(dict(zip(('cols', 'rows'), size()))).encode())
        try:
            ready = select.select([conn] + ([0] if stdin_open else []), [], [], 0.5)[0]
        except InterruptedError:
            continue
        if 0 in ready:
            data = os.read(0, 65536)
            if data:
                send(b'D', data)
            else:
                stdin_open = False
                send(b'C')
        if conn in ready:
            chunk = conn.recv(65536)
            if not chunk:
                break
            buffered += chunk
            while len(buffered) >= 5 and not done:
                kind = buffered[:1]
                length = struct.unpack('>I', buffered[1:5])[0]
                if len(buffered) < 5 + length:
                    break
                payload, buffered = buffered[5:5 + length], buffered[5 + length:]
                if kind == b'O':
                    write_all(1, payload)
                elif kind == b'E':
                    write_all(2, payload)
                elif kind == b'X':
                    code = json.loads(payload)['code']
                    done = True
finally:
    if saved is not None:
        termios.tcsetattr(0, termios.TCSADRAIN, saved)
if interactive:
    sys.stderr.write('Connection to %s closed.\\n' % node)
sys.exit(code)
`;
}
