/** One argument for bash or sh, single-quoted: scripts built from data run it as data. */
export function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}
