import type { QuestionFile } from '../sessions/session-question.entity.js';
import type { QuestionFileSpec } from './question.schema.js';
import { renderString, templateProblems } from './templates.js';
import type { PathKey } from './yaml-source.js';

/**
 * What a question may ship into the candidate's home. The home is a small
 * tmpfs (TERMINAL_HOME_MB) and every session row stores the rendered files:
 * manifests, a kustomization or a small chart fit easily.
 */
export const QUESTION_FILE_LIMITS = {
  fileBytes: 32 * 1024,
  questionBytes: 128 * 1024,
};

/** Paths in the home the engine writes itself: the candidate's kubeconfig and shell settings. */
const ENGINE_PATHS = ['.kube', '.bashrc', '.vimrc'];

/**
 * Why `path` cannot name a file in the candidate's home, or undefined. Lint
 * reports it with the question's position; the terminal checks it again
 * before writing a stored row.
 */
export function homePathProblem(path: string): string | undefined {
  if (path.startsWith('/'))
    return `is absolute; write it relative to the candidate's home ("${path.replace(/^\/+/, '')}" becomes ~/${path.replace(/^\/+/, '')})`;
  if (path.startsWith('~'))
    return `starts with ~; paths are relative to the home already (write "${path.replace(/^~\/*/, '')}")`;
  if (hasBackslashOrControl(path))
    return 'has a backslash or a control character; separate folders with / and use printable characters';
  const segments = path.split('/');
  if (segments.includes('..'))
    return 'leaves the candidate\'s home (a ".." segment); write a path inside it, without ".."';
  if (segments.some((s) => s === '' || s === '.'))
    return `has an empty or "." segment; write it as "${segments.filter((s) => s && s !== '.').join('/')}"`;
  if (ENGINE_PATHS.includes(segments[0]))
    return `~/${segments[0]} is the engine's (the candidate's kubeconfig and shell settings); choose another path`;
  return undefined;
}

/** A backslash (a Windows separator) or a control character (0x00–0x1f, DEL). */
function hasBackslashOrControl(path: string): boolean {
  for (let i = 0; i < path.length; i++) {
    const code = path.charCodeAt(i);
    if (code < 0x20 || code === 0x7f || code === 0x5c) return true;
  }
  return false;
}

/** The files rendered for one candidate, as stored on the session and written into the home. */
export function renderQuestionFiles(
  files: QuestionFileSpec[],
  vars: Record<string, unknown>,
): QuestionFile[] {
  return files.map((file) => ({
    path: file.path,
    content: file.verbatim ? file.content : String(renderString(file.content, vars)),
    executable: file.executable,
  }));
}

/** The two paths cannot both be files of one home: the same path, or one inside the other. */
export function pathsClash(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}

/** A problem with a question's files, at `path` in its file (and a line of a template). */
export interface FileProblem {
  path: PathKey[];
  /** 1-based line inside the content template, for template errors. */
  line?: number;
  /** 1-based column inside that line, when known. */
  column?: number;
  message: string;
}

/** Go and Helm templates: `{{ .Values.x }}`, `{{- if … }}`, `{{ include … }}`, `{{ toYaml … }}`. */
const GO_TEMPLATE =
  /\{\{-?\s*(\.|-|if\b|range\b|with\b|end\b|include\b|template\b|toYaml\b|define\b)/;

const kib = (bytes: number) => `${Math.ceil(bytes / 1024)} KiB`;

/**
 * A question's files rendered with sample variables: paths that stay in the
 * home and are known to lint (no templates), each shipped once, content that
 * renders and fits.
 */
export function questionFileProblems(
  files: QuestionFileSpec[],
  vars: Record<string, unknown>,
): FileProblem[] {
  const problems: FileProblem[] = [];
  let total = 0;
  files.forEach((file, i) => {
    const at = (key: string) => ['files', i, key];
    if (file.path.includes('{{')) {
      problems.push({
        path: at('path'),
        message: `files[${i}].path "${file.path}" is a template; a path is written as it is (lint must know it), so put the variable in the content or the task`,
      });
    } else {
      const problem = homePathProblem(file.path);
      if (problem)
        problems.push({ path: at('path'), message: `files[${i}].path "${file.path}" ${problem}` });
    }
    const j = files.findIndex((other, k) => k < i && pathsClash(other.path, file.path));
    if (j >= 0) {
      const other = files[j].path;
      problems.push({
        path: at('path'),
        message:
          other === file.path
            ? `files[${i}].path "${file.path}" is shipped twice (also files[${j}]); keep one`
            : `files[${i}].path "${file.path}" and files[${j}].path "${other}" cannot both be: one would be a folder and a file at once; rename one`,
      });
    }
    let content = file.content;
    if (!file.verbatim) {
      const errors = templateProblems(file.content, vars);
      if (errors.length) {
        const helm = GO_TEMPLATE.test(file.content)
          ? '; a Helm chart or Go template? add verbatim: true to ship it as written'
          : '';
        for (const error of errors)
          problems.push({
            path: at('content'),
            line: error.line,
            column: error.column,
            message: `files[${i}].content: ${error.message}${helm}`,
          });
        return;
      }
      content = String(renderString(file.content, vars));
    }
    const bytes = Buffer.byteLength(content);
    total += bytes;
    if (bytes > QUESTION_FILE_LIMITS.fileBytes)
      problems.push({
        path: at('content'),
        message: `files[${i}] (${file.path}) is ${kib(bytes)}, over the ${kib(QUESTION_FILE_LIMITS.fileBytes)} a file may be; ship a smaller file (the candidate's home is small), or split it`,
      });
  });
  if (total > QUESTION_FILE_LIMITS.questionBytes)
    problems.push({
      path: ['files'],
      message: `the files come to ${kib(total)}, over the ${kib(QUESTION_FILE_LIMITS.questionBytes)} a question may ship; ship fewer or smaller files`,
    });
  return problems;
}

/** The first path of `a` that clashes with one of `b`, as [a's, b's]. */
export function firstClash(
  a: { path: string }[],
  b: { path: string }[],
): [string, string] | undefined {
  for (const x of a) for (const y of b) if (pathsClash(x.path, y.path)) return [x.path, y.path];
  return undefined;
}
