import type { ConnectivityCheck } from '../check.schema.js';
import type { LiveObject } from '../cluster-reads.js';
import { namedOrSelectedPods } from './selection.js';
import { type CheckEnv, fail, pass, UndecidableError, type Verdict } from './verdict.js';

type Pod = LiveObject & {
  metadata: { name: string; deletionTimestamp?: string };
  spec: { containers: { name: string }[] };
  status?: { phase?: string };
};

/**
 * A TCP connection from a pod to host:port opens (or does not): real
 * traffic, so a NetworkPolicy, a Service's ports and selector, kube-proxy
 * and DNS are all judged by their effect. The probe is BusyBox's
 * `nc -w <s> host port -e true` run in the source pod: exit 0 once connected.
 * `reachable: false` passes only for a refused or unanswered connection, so
 * pair it with a `reachable: true` check of the same target (`requires`)
 * that shows the target serves.
 */
export async function evaluateConnectivity(
  check: ConnectivityCheck,
  env: CheckEnv,
): Promise<Verdict> {
  const { from } = check;
  const pod = await sourcePod(check, env);
  if (typeof pod === 'string') return fail(pod);
  const container = from.container ?? pod.spec.containers[0].name;
  const split = check.to.lastIndexOf(':');
  const [host, port] = [check.to.slice(0, split), check.to.slice(split + 1)];
  const noNc = (said: string) =>
    new UndecidableError(
      `pod ${pod.metadata.name} (container ${container}) has no nc to test ${check.to} with: ${said}`,
    );
  const result = await env.reads
    .podExec(
      from.namespace,
      pod.metadata.name,
      container,
      ['nc', '-w', String(check.connectTimeout), host, port, '-e', 'true'],
      (check.connectTimeout + 10) * 1000,
    )
    .catch((error: Error) => {
      // The runtime refuses the exec itself: the image has no such program.
      throw NOT_FOUND.test(error.message) ? noNc(error.message) : error;
    });
  const said = result.stderr.trim();
  if (result.code === 0)
    return check.reachable
      ? pass()
      : fail(
          `pod ${pod.metadata.name} opened a connection to ${check.to}; it should be refused or dropped`,
        );
  if (NOT_FOUND.test(said)) throw noNc(said);
  // The exec itself never finished: nothing was learnt about the traffic.
  if (result.code === -1)
    throw new UndecidableError(
      `the probe in pod ${pod.metadata.name} did not finish within ${check.connectTimeout + 10} s`,
    );
  const refused = /refused/i.test(said);
  const dropped = /timed out/i.test(said);
  const why = refused
    ? 'the connection was refused'
    : dropped
      ? `no answer within ${check.connectTimeout} s`
      : /bad address/i.test(said)
        ? `${host} does not resolve`
        : said.split('\n').slice(-1)[0] || `nc exited ${result.code}`;
  if (check.reachable)
    return fail(`pod ${pod.metadata.name} cannot connect to ${check.to}: ${why}`);
  // Blocked means refused or dropped on the way; a name that does not
  // resolve (a deleted Service) says nothing of a policy.
  return refused || dropped
    ? pass()
    : fail(`pod ${pod.metadata.name} could not tell whether ${check.to} is blocked: ${why}`);
}

const NOT_FOUND = /executable file not found|not found in \$PATH|nc: not found/i;

/** The named pod, or the first Running one selected; a string says why there is none. */
async function sourcePod(check: ConnectivityCheck, env: CheckEnv): Promise<Pod | string> {
  const { from } = check;
  const found = await namedOrSelectedPods<Pod>(env, from);
  if (from.name) {
    if (typeof found === 'string') return found;
    const [pod] = found;
    if (pod.status?.phase !== 'Running')
      return `Pod ${from.name} in ${from.namespace} is ${pod.status?.phase ?? 'not running'}, so no traffic can start from it`;
    return pod;
  }
  const running = (typeof found === 'string' ? [] : found)
    .filter((p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp)
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  return running[0] ?? `no Running pod with ${from.labelSelector} in ${from.namespace}`;
}
