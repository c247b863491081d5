/**
 * `npm run bench:submit`: how long a candidate waits for their score. A
 * session of the sample exam (cka-sample, 15 tasks) is started on the built
 * engine, every other task is solved by its reference solution (the rest are
 * left as set up, so their failing checks are what grading must decide
 * quickly), the session is submitted, and the time from the submit to the
 * stored report is measured. --runs sessions (default 5), one after another;
 * prints each run and the median (goal: p50 <= 3 s), and fails if a solved
 * task scored less than full marks.
 *
 *   npm run bench:submit -- [--runs N] [--exam id]
 */
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import type { SessionReport } from '../../src/grading/report.types.js';
import { shell } from '../support/processes.js';
import {
  candidateKubeconfig,
  staffToken,
  startEngine,
  startSession,
  untilActive,
} from './engine-process.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    exam: { type: 'string', default: 'cka-sample' },
  },
});

interface StaffQuestion {
  questionId: string;
  solution: { commands: string[] };
}

async function main(): Promise<void> {
  const engine = await startEngine();
  try {
    // An admin: each run's session is removed after it, so sessions do not pile up on the nodes.
    const staff = await staffToken(engine.sqlitePath, 'admin');
    const get = async <T>(path: string, token: string): Promise<T> => {
      const res = await fetch(`${engine.base}${path}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    };
    const times: number[] = [];
    for (let run = 1; run <= Number(values.runs); run++) {
      const session = await startSession(engine.base, values.exam, `submit-${run}`);
      await untilActive(engine.base, session, 180_000);
      const view = await get<{ questions: StaffQuestion[] }>(`/api/sessions/${session.id}`, staff);
      const kubeconfig = await candidateKubeconfig(engine.base, session);
      const solved = view.questions.filter((_, i) => i % 2 === 0);
      const env = {
        ...process.env,
        KUBECONFIG: kubeconfig,
        PATH: `${dirname(engine.kubectl)}:${process.env.PATH}`,
      };
      for (const q of solved) {
        for (const command of q.solution.commands) {
          if (command.startsWith('answer:')) continue; // answers are not part of this measure
          const result = await shell(command, env);
          if (result.code !== 0)
            throw new Error(`${q.questionId}: solution failed: ${command}\n${result.output}`);
        }
      }
      await rm(kubeconfig, { force: true });

      const started = Date.now();
      const submitted = await fetch(`${engine.base}/api/sessions/me/submit`, {
        method: 'POST',
        headers: { authorization: `Bearer ${session.token}` },
      });
      if (!submitted.ok) throw new Error(`submit: ${submitted.status}`);
      for (;;) {
        const me = await get<{ state: string }>('/api/sessions/me', session.token);
        if (me.state === 'graded') break;
        if (Date.now() - started > 300_000) throw new Error(`not graded after 300 s (${me.state})`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const seconds = (Date.now() - started) / 1000;
      times.push(seconds);
      const report = await get<SessionReport>('/api/sessions/me/report', session.token);
      const solvedIds = new Set(solved.map((q) => q.questionId));
      const short = report.tasks.filter(
        (t) =>
          solvedIds.has(t.questionId) &&
          // Answer tasks are left unanswered here: only their cluster checks count.
          !t.checks.some((c) => c.kind === 'answer') &&
          t.pointsAwarded < t.pointsPossible,
      );
      console.log(
        `run ${run}: submit -> stored report ${seconds.toFixed(2)} s, score ${report.pointsAwarded}/${report.pointsPossible} (${solved.length} of ${report.tasks.length} tasks solved)`,
      );
      const removed = await fetch(`${engine.base}/api/sessions/${session.id}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${staff}` },
      });
      if (removed.status !== 204) throw new Error(`removing the session: ${removed.status}`);
      if (short.length)
        throw new Error(
          `solved tasks scored less than full marks: ${short
            .map((t) => `${t.questionId} ${t.pointsAwarded}/${t.pointsPossible}`)
            .join(', ')}`,
        );
    }
    const sorted = [...times].sort((a, b) => a - b);
    const p50 = sorted[Math.floor(sorted.length / 2)];
    console.log(
      `submit -> stored report over ${times.length} runs: p50 ${p50.toFixed(2)} s, max ${sorted.at(-1)!.toFixed(2)} s (goal p50 <= 3 s: ${p50 <= 3 ? 'met' : 'NOT met'})`,
    );
  } finally {
    await engine.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
