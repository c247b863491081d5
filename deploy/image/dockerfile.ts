import type { HealthCheck, ImageConfig } from '../../sandbox/images/oci.js';

/** One instruction of a Dockerfile: its keyword, its `--flags` and the rest of the line. */
export interface Instruction {
  keyword: string;
  flags: Record<string, string>;
  args: string;
  line: number;
}

/** What the last stage of the Dockerfile says about the image it makes. */
export interface FinalStage {
  from: string;
  /** `COPY --from=<stage> <source> <destination>` of the last stage, in order. */
  copies: { from: string; source: string; destination: string }[];
  config: ImageConfig;
  /** `ARG` defaults declared before the first FROM. */
  args: Record<string, string>;
}

/**
 * Instructions the last stage may hold. Anything that makes files (RUN, ADD,
 * COPY from the build context) is refused there: the image's files come from
 * the build stage's root only, which the no-Docker build assembles the same way.
 */
const FINAL_STAGE_KEYWORDS = new Set([
  'COPY',
  'USER',
  'WORKDIR',
  'ENV',
  'EXPOSE',
  'HEALTHCHECK',
  'LABEL',
  'ENTRYPOINT',
  'CMD',
  'STOPSIGNAL',
]);

/** Splits a Dockerfile into instructions: comments dropped, `\` continuations joined. */
export function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, index) => {
    const line = raw.trimEnd();
    if (!pending && (/^\s*#/.test(line) || !line.trim())) return;
    if (pending && /^\s*#/.test(line)) return;
    if (!pending) start = index + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const whole = (pending + line).trim();
    pending = '';
    const match = /^(\S+)\s*(.*)$/s.exec(whole);
    if (!match) return;
    let rest = match[2];
    const flags: Record<string, string> = {};
    for (;;) {
      const flag = /^--([a-z-]+)=(\S+)\s+/.exec(rest);
      if (!flag) break;
      flags[flag[1]] = flag[2];
      rest = rest.slice(flag[0].length);
    }
    out.push({ keyword: match[1].toUpperCase(), flags, args: rest.trim(), line: start });
  });
  return out;
}

/** `KEY=value KEY2="a b"` pairs (ENV and LABEL), values unquoted. */
export function keyValues(args: string): [string, string][] {
  const pairs: [string, string][] = [];
  const pattern = /([A-Za-z0-9_.-]+)=("(?:[^"\\]|\\.)*"|\S*)\s*/gy;
  let match: RegExpExecArray | null;
  let consumed = 0;
  while ((match = pattern.exec(args))) {
    const value = match[2].startsWith('"') ? (JSON.parse(match[2]) as string) : match[2];
    pairs.push([match[1], value]);
    consumed = pattern.lastIndex;
  }
  if (consumed !== args.length) throw new Error(`cannot read key=value pairs in "${args}"`);
  return pairs;
}

function execForm(instruction: Instruction, args = instruction.args): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    throw new Error(
      `line ${instruction.line}: ${instruction.keyword} must use the exec (JSON) form`,
    );
  }
  if (!Array.isArray(parsed) || !parsed.every((p) => typeof p === 'string'))
    throw new Error(`line ${instruction.line}: ${instruction.keyword} is not a list of strings`);
  return parsed;
}

/** `30s`, `1m30s`, `500ms` → seconds. */
export function durationSeconds(text: string): number {
  let total = 0;
  const pattern = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let match: RegExpExecArray | null;
  let consumed = 0;
  while ((match = pattern.exec(text))) {
    total += Number(match[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[match[2] as 'ms'];
    consumed = pattern.lastIndex;
  }
  if (!text || consumed !== text.length) throw new Error(`not a duration: ${text}`);
  return total;
}

function healthcheckOf(instruction: Instruction): HealthCheck {
  const cmd = /^CMD\s+(.*)$/s.exec(instruction.args);
  if (!cmd)
    throw new Error(
      `line ${instruction.line}: HEALTHCHECK must be HEALTHCHECK [options] CMD [...]`,
    );
  const { interval, timeout, retries } = instruction.flags;
  const startPeriod = instruction.flags['start-period'];
  const known = new Set(['interval', 'timeout', 'retries', 'start-period']);
  const unknown = Object.keys(instruction.flags).filter((f) => !known.has(f));
  if (unknown.length)
    throw new Error(`line ${instruction.line}: HEALTHCHECK --${unknown[0]} is not read`);
  return {
    test: ['CMD', ...execForm(instruction, cmd[1])],
    ...(interval ? { intervalSeconds: durationSeconds(interval) } : {}),
    ...(timeout ? { timeoutSeconds: durationSeconds(timeout) } : {}),
    ...(startPeriod ? { startPeriodSeconds: durationSeconds(startPeriod) } : {}),
    ...(retries ? { retries: Number(retries) } : {}),
  };
}

/**
 * The image configuration the last stage of `text` describes, as Docker
 * would write it: the runtime settings (user, working directory,
 * environment, ports, health check, labels, entrypoint, command) and where
 * its files come from.
 */
export function finalStage(text: string): FinalStage {
  const all = instructions(text);
  const firstFrom = all.findIndex((i) => i.keyword === 'FROM');
  const lastFrom = all.findLastIndex((i) => i.keyword === 'FROM');
  if (lastFrom < 0) throw new Error('no FROM in the Dockerfile');
  const args = Object.fromEntries(
    all
      .slice(0, firstFrom)
      .filter((i) => i.keyword === 'ARG')
      .map((i) => {
        const [name, value = ''] = i.args.split('=');
        return [name, value];
      }),
  );
  const stage = all.slice(lastFrom + 1);
  const config: ImageConfig = {};
  const env: string[] = [];
  const labels: Record<string, string> = {};
  const copies: FinalStage['copies'] = [];
  for (const instruction of stage) {
    if (!FINAL_STAGE_KEYWORDS.has(instruction.keyword))
      throw new Error(
        `line ${instruction.line}: ${instruction.keyword} in the last stage: its files must come from the build stage's root only`,
      );
    switch (instruction.keyword) {
      case 'COPY': {
        const from = instruction.flags.from;
        const paths = instruction.args.split(/\s+/);
        if (!from || paths.length !== 2 || Object.keys(instruction.flags).length !== 1)
          throw new Error(
            `line ${instruction.line}: the last stage copies only with COPY --from=<stage> <source> <destination>`,
          );
        copies.push({ from, source: paths[0], destination: paths[1] });
        break;
      }
      case 'USER':
        config.user = instruction.args;
        break;
      case 'WORKDIR':
        config.workingDir = instruction.args;
        break;
      case 'ENV':
        for (const [name, value] of keyValues(instruction.args)) {
          // As Docker does: a variable set again keeps its place.
          const at = env.findIndex((e) => e.startsWith(`${name}=`));
          if (at >= 0) env[at] = `${name}=${value}`;
          else env.push(`${name}=${value}`);
        }
        break;
      case 'EXPOSE':
        config.exposedPorts = [
          ...(config.exposedPorts ?? []),
          ...instruction.args.split(/\s+/).map((p) => (p.includes('/') ? p : `${p}/tcp`)),
        ];
        break;
      case 'HEALTHCHECK':
        config.healthcheck = healthcheckOf(instruction);
        break;
      case 'LABEL':
        for (const [name, value] of keyValues(instruction.args)) labels[name] = value;
        break;
      case 'ENTRYPOINT':
        config.entrypoint = execForm(instruction);
        break;
      case 'CMD':
        config.cmd = execForm(instruction);
        break;
      case 'STOPSIGNAL':
        config.stopSignal = instruction.args;
        break;
    }
  }
  if (env.length) config.env = env;
  if (Object.keys(labels).length) config.labels = labels;
  return { from: all[lastFrom].args, copies, config, args };
}
