import { execFile } from 'node:child_process';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * glibc stays the host's: ldd runs the host's dynamic loader, which must
 * match the libc it loads, and the host is Debian 12 like the packages.
 */
const FROM_HOST = new Set(['libc6']);

const APT_ENV = { ...process.env, LC_ALL: 'C', DEBIAN_FRONTEND: 'noninteractive' };

/**
 * Debian packages fetched with `apt-get download` and unpacked with
 * `dpkg-deb -x` into one scratch tree: nothing is installed on the host and
 * no maintainer script (no service) runs. The libraries a package depends on
 * (its `lib*` dependencies, recursively) are unpacked too, so that ldd finds
 * each program's libraries in the tree.
 */
export class DebianPackages {
  readonly tree: string;
  private readonly debs: string;
  private readonly unpacked = new Map<string, string>();
  private updated = false;

  constructor(
    dir: string,
    private readonly log: (line: string) => void = () => {},
  ) {
    this.tree = join(dir, 'tree');
    this.debs = join(dir, 'debs');
  }

  /** Package → version of every package unpacked so far. */
  versions(): Record<string, string> {
    return Object.fromEntries([...this.unpacked].sort(([a], [b]) => a.localeCompare(b)));
  }

  /** Unpacks `packages` and their library dependencies; returns the tree. */
  async unpack(packages: string[]): Promise<string> {
    const wanted = packages.filter((p) => !this.unpacked.has(p));
    if (!wanted.length) return this.tree;
    const all = await this.withLibraryDependencies(wanted);
    const missing = all.filter((p) => !this.unpacked.has(p));
    await mkdir(this.debs, { recursive: true });
    await mkdir(this.tree, { recursive: true });
    this.log(`downloading Debian packages: ${missing.join(' ')}`);
    await this.download(missing);
    const files = await readdir(this.debs);
    for (const pkg of missing) {
      const deb = files.find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
      if (!deb) throw new Error(`apt-get download left no .deb for ${pkg} in ${this.debs}`);
      const path = join(this.debs, deb);
      await run('dpkg-deb', ['-x', path, this.tree]);
      const { stdout } = await run('dpkg-deb', ['-f', path, 'Version']);
      this.unpacked.set(pkg, stdout.trim());
    }
    return this.tree;
  }

  /** The version of a host package (`dpkg-query`), e.g. the libc6 the images get. */
  static async hostVersion(pkg: string): Promise<string> {
    const { stdout } = await run('dpkg-query', ['-W', '-f', '${Version}', pkg]);
    return stdout.trim();
  }

  /** The candidate versions apt would download (`(none)` when it knows no such package). */
  static async candidateVersions(packages: string[]): Promise<Record<string, string>> {
    const { stdout } = await run('apt-cache', ['policy', ...packages], { env: APT_ENV });
    const versions: Record<string, string> = {};
    let current = '';
    for (const line of stdout.split('\n')) {
      const header = /^(\S+):$/.exec(line);
      if (header) current = header[1];
      const candidate = /^\s+Candidate: (\S+)/.exec(line);
      if (candidate && current) versions[current] = candidate[1];
    }
    return versions;
  }

  private async withLibraryDependencies(packages: string[]): Promise<string[]> {
    const seen = new Set(packages);
    let frontier = packages;
    while (frontier.length) {
      const { stdout } = await run(
        'apt-cache',
        [
          'depends',
          '--no-recommends',
          '--no-suggests',
          '--no-conflicts',
          '--no-breaks',
          '--no-replaces',
          '--no-enhances',
          ...frontier,
        ],
        { env: APT_ENV, maxBuffer: 16 * 1024 * 1024 },
      );
      const next: string[] = [];
      for (const match of stdout.matchAll(/^\s+\|?(?:Pre)?Depends: ([^\s<>]+)$/gm)) {
        const dep = match[1].replace(/:any$/, '');
        if (!dep.startsWith('lib') || FROM_HOST.has(dep) || seen.has(dep)) continue;
        seen.add(dep);
        next.push(dep);
      }
      frontier = next;
    }
    return [...seen].filter((p) => !FROM_HOST.has(p)).sort();
  }

  private async download(packages: string[]): Promise<void> {
    // As root, apt would drop to the _apt user, who cannot write to a cache under /root.
    const sandbox = process.getuid?.() === 0 ? ['-o', 'APT::Sandbox::User=root'] : [];
    const attempt = () =>
      run('apt-get', ['download', '-qq', ...sandbox, ...packages], {
        cwd: this.debs,
        env: APT_ENV,
        maxBuffer: 16 * 1024 * 1024,
      });
    try {
      await attempt();
    } catch (error) {
      // A machine whose package lists were never fetched knows no candidates yet.
      if (this.updated || process.getuid?.() !== 0)
        throw new Error(
          `apt-get download ${packages.join(' ')} failed (is \`apt-get update\` needed?): ${(error as { stderr?: string }).stderr ?? (error as Error).message}`,
        );
      this.updated = true;
      this.log('apt-get download failed; running apt-get update once and retrying');
      await run('apt-get', ['update', '-qq'], { env: APT_ENV });
      await attempt();
    }
  }
}
