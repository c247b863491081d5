/**
 * Many candidates' sessions of a small exam, each solved by its reference
 * solutions, ready to be submitted at the same moment (bench:grading part 2,
 * bench:split).
 */
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { shell } from '../support/processes.js';
import {
  REPO_ROOT,
  type StartedSession,
  candidateKubeconfig,
  startSession,
  untilActive,
} from './engine-process.js';

/**
 * RBAC with canI, a static PV claim, a NetworkPolicy, RBAC for a user: 13
 * checks, light on pods so a hundred candidates' workloads fit the sandbox.
 */
export const MANY_QUESTIONS = [
  'rbac-pod-reader',
  'pvc-static-binding',
  'netpol-db-ingress',
  'rbac-user-deployments',
];

/** A copy of the bank plus open exams of MANY_QUESTIONS under the given ids; `rm` it after. */
export async function bankWithExams(exams: { id: string; title: string }[]): Promise<string> {
  const bank = await mkdtemp(join(tmpdir(), 'bench-bank-'));
  await cp(join(REPO_ROOT, 'questions'), bank, { recursive: true });
  for (const exam of exams) {
    await writeFile(
      join(bank, 'exams', `${exam.id}.yaml`),
      `id: ${exam.id}\ntitle: ${exam.title}\ndurationMinutes: 60\nopen: true\nquestions: [${MANY_QUESTIONS.join(', ')}]\n`,
    );
  }
  return bank;
}

/**
 * Starts `count` sessions of `examId` at once, waits until every one is
 * active, then solves each with its reference solutions as the candidate
 * (its own kubeconfig, 8 sessions at a time).
 */
export async function solvedSessions(
  engine: { base: string; kubectl: string },
  staff: string,
  examId: string,
  count: number,
  name = examId,
): Promise<StartedSession[]> {
  const sessions: StartedSession[] = await Promise.all(
    Array.from({ length: count }, (_, i) => startSession(engine.base, examId, `${name}-${i}`)),
  );
  await Promise.all(sessions.map((s) => untilActive(engine.base, s, 180_000)));
  const queue = [...sessions];
  const path = `${dirname(engine.kubectl)}:${process.env.PATH}`;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let s = queue.shift(); s; s = queue.shift()) {
        const view = (await (
          await fetch(`${engine.base}/api/sessions/${s.id}`, {
            headers: { authorization: `Bearer ${staff}` },
          })
        ).json()) as { questions: { solution: { commands: string[] } }[] };
        const kubeconfig = await candidateKubeconfig(engine.base, s);
        try {
          for (const q of view.questions) {
            for (const command of q.solution.commands) {
              const result = await shell(command, {
                ...process.env,
                KUBECONFIG: kubeconfig,
                PATH: path,
              });
              if (result.code !== 0)
                throw new Error(`solution failed: ${command}\n${result.output}`);
            }
          }
        } finally {
          await rm(kubeconfig, { force: true });
        }
      }
    }),
  );
  return sessions;
}

/** Submits every session at the same moment (each POST from its own request). */
export async function submitAll(base: string, sessions: StartedSession[]): Promise<void> {
  const results = await Promise.all(
    sessions.map(async (s) => {
      const res = await fetch(`${base}/api/sessions/me/submit`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.token}` },
      });
      await res.arrayBuffer();
      return res.status;
    }),
  );
  const refused = results.filter((status) => status >= 300);
  if (refused.length) throw new Error(`${refused.length} submits refused: ${refused.join(', ')}`);
}
