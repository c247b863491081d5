/**
 * A reference solution is a list of shell commands, except that a command of
 * the form `answer: <text>` is the text to submit as the candidate's answer
 * (for tasks answered in words). The one place that convention is read.
 */
export function solutionAnswer(command: string): string | undefined {
  const answer = /^answer:\s?([\s\S]*)$/.exec(command);
  return answer ? answer[1].trim() : undefined;
}
