/** One argument for bash, single-quoted (scripts for node hosts are built from check fields). */
export function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}
