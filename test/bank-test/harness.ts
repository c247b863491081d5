import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { ClusterService } from '../../src/cluster/cluster.service.js';
import { type AppConfig, loadConfig } from '../../src/config/config.schema.js';
import { dataSourceOptions } from '../../src/database/database.options.js';
import { serializeSqliteAccess } from '../../src/database/sqlite-serializer.js';
import { CheckEvaluator, type Evaluation } from '../../src/grading/check-evaluator.js';
import { taskOf } from '../../src/grading/grading.service.js';
import { createRootLogger } from '../../src/logging/logger.js';
import { ClusterLease } from '../../src/environments/cluster-lease.entity.js';
import { ClusterPoolService } from '../../src/environments/cluster-pool.service.js';
import {
  CapacityWaitError,
  DedicatedEnvironments,
} from '../../src/environments/dedicated-environments.service.js';
import { clusterProviderFor } from '../../src/environments/environments.module.js';
import { nodesNamedBy } from '../../src/question-bank/environments.js';
import {
  nodeShellIndex,
  NODE_SHELLS_FILE,
  sshClientScript,
} from '../../src/terminal/local/ssh-client.js';
import { ProvisioningService } from '../../src/provisioning/provisioning.service.js';
import type { LoadedQuestion } from '../../src/question-bank/bank.loader.js';
import { BankService, type RenderedQuestion } from '../../src/question-bank/bank.service.js';
import { homePathProblem } from '../../src/question-bank/question-files.js';
import { DEFAULT_NAMESPACE_LIMITS } from '../../src/question-bank/question.schema.js';
import { solutionAnswer } from '../../src/question-bank/solution.js';
import {
  clusterResourcesOf,
  namespacesOf,
  podAllowancesOf,
  newSessionPrefix,
  sessionQuestionRows,
} from '../../src/sessions/issued-questions.js';
import { type QuestionFile, SessionQuestion } from '../../src/sessions/session-question.entity.js';
import { SessionState } from '../../src/sessions/session-state.js';
import { Session } from '../../src/sessions/session.entity.js';
import { shell } from '../support/processes.js';

/**
 * The engine's own parts, wired by hand (no HTTP, no queue) over a scratch
 * SQLite database: provisioning a throwaway candidate exactly as a real
 * session is provisioned, running reference solutions with the candidate's
 * kubeconfig, and evaluating checks. Used by bank:test and bench:grading.
 */
export interface Harness {
  config: AppConfig;
  bank: BankService;
  evaluator: CheckEvaluator;
  provisioning: ProvisioningService;
  /** The dedicated questions' clusters (a pool without a keeper: bench:dedicated fills it). */
  pool: ClusterPoolService;
  provision(questions: LoadedQuestion[], name?: string): Promise<Candidate>;
  close(): Promise<void>;
}

export interface Candidate {
  session: Session;
  questions: SessionQuestion[];
  /** The questions as drawn for this candidate: solutions and mistakes rendered with its variables. */
  rendered: RenderedQuestion[];
  kubeconfigPath: string;
  /**
   * Runs commands as the candidate (by default the question's reference
   * solution, else an alternative or a mistake as rendered for this
   * candidate); `answer:` lines become the answer.
   */
  solve(questionId: string, commands?: string[]): Promise<SolutionRun>;
  /** Evaluates every task (answers as saved by solve). */
  grade(settleFrom: number): Promise<Evaluation>;
  teardown(): Promise<void>;
}

export interface SolutionRun {
  ok: boolean;
  /** The failing command and its output, when not ok. */
  failure?: string;
  durationMs: number;
}

export interface HarnessOptions {
  kubeconfig: string;
  /** Directory holding the kubectl the solutions run (the sandbox's, or the PATH one). */
  kubectlDir?: string;
  /** The helm the solutions run (the sandbox's); its folder goes on PATH after kubectl's. */
  helm?: string;
  questionsDir?: string;
  logger?: Logger;
  /**
   * Dedicated questions get clusters of their own from the sandbox provider,
   * kept in this folder (the engine's user only); without it they cannot be
   * provisioned.
   */
  clustersDir?: string;
}

export async function createHarness(options: HarnessOptions): Promise<Harness> {
  const scratch = await mkdtemp(join(tmpdir(), 'cka-bank-test-'));
  const env = { ...process.env };
  delete env.DATABASE_URL;
  delete env.CLUSTERS;
  delete env.KUBE_CONTEXT;
  const config = loadConfig({
    ...env,
    SQLITE_PATH: join(scratch, 'engine.sqlite'),
    KUBECONFIG: options.kubeconfig,
    ...(options.questionsDir ? { QUESTIONS_DIR: options.questionsDir } : {}),
    // Setup kubectl steps run the engine's kubectl: the one the solutions run.
    ...(options.kubectlDir ? { TERMINAL_KUBECTL: join(options.kubectlDir, 'kubectl') } : {}),
    ...(options.clustersDir
      ? { CLUSTER_PROVIDER: 'sandbox', SANDBOX_CLUSTERS_DIR: options.clustersDir }
      : { CLUSTER_PROVIDER: 'none' }),
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  });
  const logger = options.logger ?? createRootLogger(config.log.level);
  const dataSource = await new DataSource({
    ...dataSourceOptions(config.database),
    migrationsRun: true,
  }).initialize();
  serializeSqliteAccess(dataSource);
  const clusters = new ClusterService(config);
  const bank = new BankService(config, logger);
  await bank.onModuleInit();
  const evaluator = new CheckEvaluator(clusters, config);
  // Dedicated questions: a cluster of their own per candidate, never reused.
  const provider = clusterProviderFor(config);
  const pool = new ClusterPoolService(
    config,
    provider,
    dataSource.getRepository(ClusterLease),
    logger,
  );
  const dedicated = new DedicatedEnvironments(
    pool,
    clusters,
    provider,
    dataSource.getRepository(Session),
    logger,
  );
  const provisioning = new ProvisioningService(
    config,
    clusters,
    dedicated,
    dataSource.getRepository(SessionQuestion),
    logger,
  );
  const path = [options.kubectlDir, options.helm && dirname(options.helm), process.env.PATH]
    .filter(Boolean)
    .join(':');

  async function provision(questions: LoadedQuestion[], name = 'bank-test'): Promise<Candidate> {
    const seed = randomBytes(16).toString('hex');
    const prefix = newSessionPrefix('b');
    const environment = questions.some((q) => q.spec.environment === 'dedicated')
      ? 'dedicated'
      : 'shared';
    const rendered = questions.map((q) => bank.render(q, seed, prefix, environment));
    const now = new Date();
    const deadline = new Date(now.getTime() + 3600_000);
    const session = Object.assign(new Session(), {
      id: randomUUID(),
      examId: 'bank-test',
      examTitle: 'bank:test',
      environment,
      dedicatedClusters: environment === 'dedicated' ? clusterShapes(questions) : [],
      candidateName: name,
      invitationId: null,
      prefix,
      namespaces: namespacesOf(rendered),
      namespaceLimits: DEFAULT_NAMESPACE_LIMITS,
      clusterResources: clusterResourcesOf(rendered),
      podAllowances: podAllowancesOf(rendered),
      state: SessionState.ACTIVE,
      failureReason: null,
      tokenHash: randomBytes(32).toString('hex'),
      seed,
      durationSeconds: 3600,
      passPercent: 66,
      createdAt: now,
      startedAt: now,
      deadline,
      endedAt: null,
      gradedAt: null,
      tornDownAt: null,
    });
    const sessionQuestions = sessionQuestionRows(session.id, rendered);
    await dataSource.getRepository(Session).insert(session);
    await dataSource.getRepository(SessionQuestion).insert(sessionQuestions);
    const kubeconfigPath = join(scratch, `${prefix}.kubeconfig`);
    // Dedicated: `ssh <node>` as in the terminal, the same client over the nodes' shell sockets.
    const bin = join(scratch, `bin-${prefix}`);
    try {
      if (environment === 'dedicated') {
        await provisionWhenRoom(session, deadline);
        await writeFile(kubeconfigPath, await dedicated.candidateKubeconfig(session), {
          mode: 0o600,
        });
        await installSsh(bin, await dedicated.nodeShells(session));
      } else {
        await provisioning.provision(session, deadline);
        await writeFile(kubeconfigPath, await provisioning.kubeconfig(session), { mode: 0o600 });
      }
    } catch (error) {
      // A failed setup leaves nothing behind: namespaces, ServiceAccount, policy, grants.
      await provisioning.teardown(session).catch(() => undefined);
      throw error;
    }

    return {
      session,
      questions: sessionQuestions,
      rendered,
      kubeconfigPath,
      async solve(questionId, commands) {
        const question = sessionQuestions.find((q) => q.questionId === questionId)!;
        const started = performance.now();
        // As in the terminal: the question's files in the home, which is the working folder.
        const home = await materializeFiles(
          join(scratch, `home-${prefix}-${questionId}`),
          question.files,
        );
        // As the task tells the candidate: first switch to the question's cluster
        // (a dedicated session's kubeconfig has a context per cluster; ssh follows it).
        const steps = commands ?? question.solution.commands;
        const all =
          environment === 'dedicated'
            ? [`kubectl config use-context ${question.cluster}`, ...steps]
            : steps;
        for (const [i, command] of all.entries()) {
          const answer = solutionAnswer(command);
          if (answer !== undefined) {
            question.answer = answer;
            continue;
          }
          const result = await shell(
            command,
            { ...process.env, KUBECONFIG: kubeconfigPath, PATH: `${bin}:${path}`, HOME: home },
            undefined,
            home,
          );
          if (result.code !== 0) {
            return {
              ok: false,
              failure: [
                `command ${i + 1} exited ${result.code}: ${command.split('\n')[0]}`,
                result.output.trim(),
              ]
                .filter(Boolean)
                .join('\n'),
              durationMs: Math.round(performance.now() - started),
            };
          }
        }
        return { ok: true, durationMs: Math.round(performance.now() - started) };
      },
      async grade(settleFrom) {
        // As at a session's end (revoke wakes them too): controllers backed
        // off during the wait before a late solve look again at once.
        await provisioning.wakeAllControllers(session);
        return evaluator.evaluate(sessionQuestions.map(taskOf), settleFrom, {
          namespaces: session.namespaces,
          prefix: session.prefix,
          ...(environment === 'dedicated' ? await dedicated.gradingScope(session) : {}),
        });
      },
      teardown: () => provisioning.teardown(session),
    };
  }

  /**
   * A dedicated candidate's clusters: leased (made now, as nothing is kept
   * warm here) as soon as the machine has room for them, then set up.
   */
  async function provisionWhenRoom(session: Session, deadline: Date): Promise<void> {
    // A machine that cannot make clusters at all (no real-node build, not
    // root) says why at once rather than waiting for room for ever.
    const { available, reason } = await pool.availability();
    if (!available)
      throw new Error(
        `dedicated questions need real-node clusters, and none can be made here: ${reason} (--skip-dedicated leaves them out)`,
      );
    const giveUp = Date.now() + 20 * 60_000;
    for (;;) {
      try {
        return await provisioning.provision(session, deadline);
      } catch (error) {
        if (!(error instanceof CapacityWaitError)) throw error;
        if (Date.now() > giveUp)
          throw new Error('no room for its clusters on this machine in 20 minutes', {
            cause: error,
          });
        await sleep(5000);
      }
    }
  }

  /** The shape of each cluster the questions run on: as a dedicated exam listing them has it. */
  function clusterShapes(questions: LoadedQuestion[]): { alias: string; nodes: string[] }[] {
    const shapes = new Map<string, Set<string>>();
    for (const { spec } of questions) {
      const exam = bank
        .exams()
        .find(
          (e) => e.spec.environment === 'dedicated' && (e.spec.questions ?? []).includes(spec.id),
        );
      const declared = exam?.spec.clusters?.find((c) => c.alias === spec.cluster)?.nodes;
      const nodes = shapes.get(spec.cluster) ?? new Set(declared ?? ['controlplane', 'node01']);
      for (const { node } of nodesNamedBy(spec)) nodes.add(node);
      shapes.set(spec.cluster, nodes);
    }
    return [...shapes].map(([alias, nodes]) => ({ alias, nodes: [...nodes] }));
  }

  return {
    config,
    bank,
    evaluator,
    provisioning,
    pool,
    provision,
    async close() {
      // Whatever a stopped run left: no cluster outlives bank:test.
      if (provider)
        for (const id of await provider.list().catch(() => []))
          await provider
            .destroy({ id, kubeconfig: '', candidateKubeconfig: '', nodes: [], handle: {} })
            .catch(() => undefined);
      clusters.onModuleDestroy();
      await dataSource.destroy();
      await rm(scratch, { recursive: true, force: true });
    },
  };
}

export const kubectlDirOf = (kubectl: string) => dirname(kubectl);

/**
 * `ssh` in `bin`, as the terminal has it: the same client, reading the
 * nodes' shell sockets through relays (symlinks here) in a folder beside it.
 */
async function installSsh(
  bin: string,
  shells: { cluster: string; node: string; socket: string }[],
): Promise<void> {
  const relay = join(bin, 'relay');
  await mkdir(relay, { recursive: true, mode: 0o700 });
  await writeFile(join(relay, NODE_SHELLS_FILE), nodeShellIndex(shells));
  for (const [i, shell] of shells.entries()) await symlink(shell.socket, join(relay, `n${i}.sock`));
  await writeFile(join(bin, 'ssh'), sshClientScript(relay), { mode: 0o755 });
}

/**
 * A fresh folder holding a question's files at their paths, as the
 * candidate's terminal home has them: solutions run with it as HOME and
 * working folder (`helm install web ~/charts/web`, `kubectl apply -k app/`).
 */
export async function materializeFiles(dir: string, files: QuestionFile[]): Promise<string> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const file of files) {
    const problem = homePathProblem(file.path);
    if (problem) throw new Error(`file ${file.path} ${problem}`);
    await mkdir(dirname(join(dir, file.path)), { recursive: true });
    await writeFile(join(dir, file.path), file.content, { mode: file.executable ? 0o755 : 0o644 });
  }
  return dir;
}
