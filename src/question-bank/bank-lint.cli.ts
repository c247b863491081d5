/**
 * `npm run bank:lint [paths...]`: checks the whole bank (QUESTIONS_DIR) and
 * prints every problem as `file:line:column rule message`; with paths, only
 * the problems in those files or folders (files outside the bank are loaded
 * too). Exits 1 when there is any problem.
 */
import { resolve, sep } from 'node:path';
import { configFromEnvironment } from '../config/load-env.js';
import { formatProblem, loadBank, yamlFiles } from './bank.loader.js';

async function main(): Promise<void> {
  const { bank: dirs } = configFromEnvironment();
  const paths = process.argv.slice(2).map((p) => resolve(p));
  const inBank = (p: string) => p === dirs.questionsDir || p.startsWith(dirs.questionsDir + sep);
  const outside = paths.filter((p) => !inBank(p));
  const extraFiles = (
    await Promise.all(outside.map(async (p) => (/\.ya?ml$/.test(p) ? [p] : yamlFiles(p))))
  ).flat();
  const bank = await loadBank({
    questionsDir: dirs.questionsDir,
    gradersDir: dirs.gradersDir,
    extraFiles,
  });
  const wanted = (file: string) =>
    !paths.length || paths.some((p) => file === p || file.startsWith(p + sep));
  const problems = bank.problems.filter((p) => wanted(p.file));
  for (const problem of problems) console.log(formatProblem(problem));
  const summary = `${bank.questions.size} questions, ${bank.exams.size} exams valid; ${problems.length} problem${problems.length === 1 ? '' : 's'}`;
  console.error(summary);
  process.exit(problems.length ? 1 : 0);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(2);
});
