import { execFile } from 'node:child_process';
import { chown, mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DebianPackages } from './debian.js';
import type { ImageConfig, LayerSource } from './oci.js';
import { RootFs } from './rootfs.js';

const run = promisify(execFile);

/**
 * The images the sandbox's registry serves. Each is small and built here
 * from Debian packages or from the sandbox's own binaries; its name is the
 * only thing borrowed from the image it stands in for:
 *
 * | name:tags | built from | what it really is |
 * | --- | --- | --- |
 * | registry.k8s.io/pause:3.10.1, 3.10.2 | pause.c of the k8s.io/kubernetes module, gcc -static | the Kubernetes pause program, as upstream's image; user 65535 |
 * | busybox:1.36, 1.37, latest | Debian busybox-static, an applet link per command in /bin, passwd/group with root and nobody | Debian 12's BusyBox (1.35.0) whatever the tag |
 * | alpine:3.20, latest | the busybox image's files, Cmd /bin/sh | a BusyBox shell, not Alpine: no apk, no musl |
 * | httpd:2.4, latest | busybox + httpd-foreground script | a stand-in: BusyBox httpd serving /usr/local/apache2/htdocs on port 80, not Apache |
 * | nginx:1.25, 1.26, 1.27, latest, alpine | Debian nginx + its libraries, on the busybox files | Debian 12's nginx (1.22.1) whatever the tag; official-image layout (conf.d, html, logs to stdout/stderr) |
 * | redis:7, latest, alpine | Debian redis-server/redis-tools + libraries, on the busybox files | Debian 12's Redis (7.0.15); protected mode off through its entrypoint, as the official image |
 * | postgres:15, latest | Debian postgresql-15/postgresql-client-15 + libraries and tzdata, a docker-entrypoint.sh, on the busybox files | Debian 12's PostgreSQL 15 (15.20); the official image's first-start initialisation (POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB) in BusyBox sh; runs as postgres (999) |
 * | registry.k8s.io/e2e-test-images/agnhost:2.53, 2.52 | the agnhost binary at /agnhost, on the busybox files | agnhost from k8s.io/kubernetes (the version of the sandbox's Kubernetes) |
 * | registry.k8s.io/kube-apiserver, kube-controller-manager, kube-scheduler:<k8s> | the sandbox's binary in /usr/local/bin | that program, nothing else (no go-runner) |
 * | registry.k8s.io/kube-proxy:<k8s> | kube-proxy + Debian iptables (nf_tables), conntrack, ipset + libraries | kube-proxy with the tools its iptables mode runs; no iptables-legacy wrapper |
 * | registry.k8s.io/etcd:<etcd>-0 | etcd, etcdctl, etcdutl in /usr/local/bin | the sandbox's etcd |
 * | registry.k8s.io/coredns/coredns:<coredns> | /coredns (optional input) | CoreDNS built from source; runs as root (upstream: nonroot + file capability) |
 * | registry.k8s.io/metrics-server/metrics-server:<version> | /metrics-server (optional input) | metrics-server built from source (reports v0.0.0-master: no version ldflags) |
 * | docker.io/cloudnativelabs/kube-router:<version> | kube-router + the same iptables (nft), conntrack, ipset as kube-proxy's (optional input) | kube-router built from source, for its NetworkPolicy firewall; no gobgp |
 *
 * Images with a shell get it from BusyBox (the originals are Debian or
 * Alpine based); the control-plane images have no shell, like upstream's
 * distroless ones.
 */

/** The sandbox programs images are made of, by the name the real-node cache gives them. */
export const IMAGE_PROGRAMS = [
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kube-proxy',
  'etcd',
  'etcdctl',
  'etcdutl',
  'agnhost',
  'coredns',
  'metrics-server',
  'kube-router',
] as const;
export type ImageProgram = (typeof IMAGE_PROGRAMS)[number];
export type ImagePrograms = Partial<Record<ImageProgram, string>>;

/** Versions that name tags: each image is tagged with what it really is where upstream's tag says so. */
export interface CatalogueVersions {
  /** e.g. v1.36.3 */
  kubernetes: string;
  /** e.g. v3.6.8 */
  etcd: string;
  /** e.g. v1.14.7; without it the coredns image is skipped. */
  coredns?: string;
  /** e.g. v0.8.0; without it the metrics-server image is skipped. */
  metricsServer?: string;
  /** e.g. v2.1.0; without it the kube-router image is skipped. */
  kubeRouter?: string;
}

/** A command run inside the image that proves it works (the integration test runs them). */
export interface ImageCheck {
  command: string[];
  /** Text the output (stdout and stderr) must contain; the exit code must be 0 either way. */
  expect?: string;
  stdin?: string;
}

export interface ImageBuild {
  layers: LayerSource[];
  config: ImageConfig;
  /** Tags only known once built (the pause version its source declares). */
  extraTags?: string[];
}

export interface ImageRecipe {
  /** As a pod spec writes it: `busybox`, `registry.k8s.io/pause`. */
  name: string;
  tags: string[];
  builtFrom: string;
  really: string;
  /** Sandbox programs it is made of; without one of them it is skipped. */
  needs: ImageProgram[];
  /** What is missing for it, when a version it is tagged with is unknown. */
  missing?: string;
  /** Debian packages it contains (their library dependencies come along). */
  debianPackages: string[];
  checks: ImageCheck[];
  build(ctx: RecipeContext): Promise<ImageBuild>;
}

const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const MULTIARCH = '/usr/lib/x86_64-linux-gnu';
/**
 * The Go garbage collector's target in the system images (control plane,
 * etcd, CoreDNS, metrics-server, kube-proxy, kube-router): a heap half the
 * default's growth. Idle, these programs allocate little, so the collector
 * costs next to nothing, and an idle cluster's memory (most of it Go heaps)
 * shrinks. In the image's environment, not in the manifests a candidate
 * reads and edits.
 */
export const SYSTEM_GO_ENV = 'GOGC=50';

/** Scratch space and shared layers for one catalogue build. */
export class RecipeContext {
  readonly debian: DebianPackages;
  private readonly layers = new Map<string, Promise<LayerSource>>();

  constructor(
    readonly workDir: string,
    readonly programs: ImagePrograms,
    readonly versions: CatalogueVersions,
    readonly log: (line: string) => void = () => {},
  ) {
    this.debian = new DebianPackages(join(workDir, 'debian'), log);
  }

  /** A layer directory filled once per name (images built on the busybox files share it). */
  layer(
    name: string,
    createdBy: string,
    fill: (root: RootFs) => Promise<void>,
  ): Promise<LayerSource> {
    let pending = this.layers.get(name);
    if (!pending) {
      pending = (async () => {
        const dir = join(this.workDir, 'layers', name);
        await mkdir(dir, { recursive: true });
        await fill(new RootFs(dir));
        return { root: dir, createdBy };
      })();
      this.layers.set(name, pending);
    }
    return pending;
  }

  program(name: ImageProgram): string {
    const path = this.programs[name];
    if (!path) throw new Error(`the ${name} binary was not given`);
    return path;
  }
}

/** BusyBox with every applet as a link in /bin, and the files a shell image has. */
function busyboxLayer(ctx: RecipeContext): Promise<LayerSource> {
  return ctx.layer('busybox', 'Debian busybox-static, applet links in /bin', async (root) => {
    const tree = await ctx.debian.unpack(['busybox-static']);
    await root.copy(join(tree, 'bin/busybox'), '/bin/busybox', 0o755);
    const { stdout } = await run(join(tree, 'bin/busybox'), ['--list']);
    for (const applet of stdout.split('\n').filter((a) => a && a !== 'busybox'))
      await root.symlink(`/bin/${applet}`, 'busybox');
    await root.file(
      '/etc/passwd',
      'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
    );
    await root.file('/etc/group', 'root:x:0:\nnobody:x:65534:\n');
    await root.file('/etc/nsswitch.conf', 'passwd: files\ngroup: files\nhosts: files dns\n');
    await root.mkdir('/root', 0o700);
    await root.mkdir('/tmp', 0o1777);
  });
}

/** What a distroless "static" base gives a lone static binary: users, /tmp, nsswitch. */
function staticBaseLayer(ctx: RecipeContext): Promise<LayerSource> {
  return ctx.layer('static-base', 'users root, nobody and nonroot; /tmp', async (root) => {
    await root.file(
      '/etc/passwd',
      'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n',
    );
    await root.file('/etc/group', 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n');
    await root.file('/etc/nsswitch.conf', 'passwd: files\ngroup: files\nhosts: files dns\n');
    await root.mkdir('/root', 0o700);
    await root.mkdir('/home/nonroot', 0o700);
    await root.mkdir('/tmp', 0o1777);
  });
}

/** One sandbox program at `imagePath`, on the static base. */
async function binaryImage(
  ctx: RecipeContext,
  programs: { program: ImageProgram; path: string }[],
  config: ImageConfig,
  layerName: string,
): Promise<ImageBuild> {
  const present = programs.filter((p) => ctx.programs[p.program]);
  const layer = await ctx.layer(
    layerName,
    `sandbox binaries: ${present.map((p) => p.path).join(' ')}`,
    async (root) => {
      for (const { program, path } of present) await root.copy(ctx.program(program), path, 0o755);
    },
  );
  return {
    layers: [await staticBaseLayer(ctx), layer],
    config: { env: [PATH, SYSTEM_GO_ENV], ...config },
  };
}

const NGINX_CONF = `# Debian's nginx laid out as the official image has it: conf.d/*.conf,
# content in /usr/share/nginx/html, logs on the container's stdout/stderr.
user  nobody;
worker_processes  auto;

error_log  /var/log/nginx/error.log notice;
pid        /run/nginx.pid;

events {
    worker_connections  1024;
}

http {
    include       /etc/nginx/mime.types;
    default_type  application/octet-stream;

    log_format  main  '$remote_addr - $remote_user [$time_local] "$request" '
                      '$status $body_bytes_sent "$http_referer" '
                      '"$http_user_agent" "$http_x_forwarded_for"';
    access_log  /var/log/nginx/access.log  main;

    sendfile           on;
    keepalive_timeout  65;

    include /etc/nginx/conf.d/*.conf;
}
`;

const NGINX_DEFAULT_SERVER = `server {
    listen       80;
    server_name  localhost;

    location / {
        root   /usr/share/nginx/html;
        index  index.html index.htm;
    }

    error_page   500 502 503 504  /50x.html;
    location = /50x.html {
        root   /usr/share/nginx/html;
    }
}
`;

const NGINX_INDEX = `<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working.</p>
<!-- The CKA sandbox's nginx image: Debian's nginx build. -->
</body>
</html>
`;

const NGINX_ERROR = `<!DOCTYPE html>
<html>
<head><title>Error</title></head>
<body>
<h1>An error occurred.</h1>
<p>Sorry, the page you are looking for is currently unavailable.</p>
</body>
</html>
`;

/** The files of Debian's nginx-common the configuration includes. */
const NGINX_COMMON_FILES = [
  'mime.types',
  'fastcgi_params',
  'fastcgi.conf',
  'scgi_params',
  'uwsgi_params',
  'koi-utf',
  'koi-win',
  'win-utf',
];

/**
 * The official image's entrypoint turns protected mode off by compiling it
 * off; Debian's build has it on, so this entrypoint adds `--protected-mode no`
 * when redis-server runs without saying. Options alone (`--port 7000`) or a
 * config file mean redis-server, as in the official entrypoint.
 */
const REDIS_ENTRYPOINT = `#!/bin/sh
set -e
if [ "\${1#-}" != "$1" ] || [ "\${1%.conf}" != "$1" ]; then
  set -- redis-server "$@"
fi
if [ "$1" = redis-server ]; then
  case " $* " in
    *" --protected-mode "*) ;;
    *) set -- "$@" --protected-mode no ;;
  esac
fi
exec "$@"
`;

/** Debian's PostgreSQL major version: the image's tag, and its paths. */
const PG_MAJOR = '15';
const PG_LIB = `/usr/lib/postgresql/${PG_MAJOR}`;
const PG_SHARE = `/usr/share/postgresql/${PG_MAJOR}`;
/** The user the official image runs PostgreSQL as (Debian's postgres user, fixed at 999). */
const PG_UID = 999;

/**
 * The official image's docker-entrypoint.sh, reduced to BusyBox sh. A first
 * start (no PG_VERSION in PGDATA) runs initdb for POSTGRES_USER with
 * POSTGRES_PASSWORD (from a file under /tmp, removed after), trust on the
 * socket, scram-sha-256 for every host (pg_hba.conf gets `host all all all`,
 * and listen_addresses is '*' in the image's postgresql.conf.sample, as the
 * official image edits it), locale C with UTF8; a temporary server on the
 * socket only creates POSTGRES_DB (default: POSTGRES_USER) and runs
 * /docker-entrypoint-initdb.d (*.sh, *.sql, *.sql.gz); then postgres
 * replaces the shell. As root (the image's default user) it makes PGDATA
 * postgres's and starts again as postgres through BusyBox su (in place of
 * gosu: su execs, so postgres stays PID 1; `--` keeps postgres's own `-c`
 * options from su). Any other uid has no passwd entry, which initdb needs
 * (the official image's nss_wrapper is not here).
 */
const POSTGRES_ENTRYPOINT = `#!/bin/sh
set -e

# Options alone (-c max_connections=200) mean postgres, as in the official entrypoint.
if [ "\${1#-}" != "\${1:-}" ]; then
  set -- postgres "$@"
fi
if [ "\${1:-}" != postgres ]; then
  exec "$@"
fi
: "\${PGDATA:=/var/lib/postgresql/data}"
export PGDATA

if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  find "$PGDATA" ! -user postgres -exec chown postgres:postgres {} +
  chmod 700 "$PGDATA"
  chown postgres:postgres /var/run/postgresql 2>/dev/null || :
  chmod 3777 /var/run/postgresql 2>/dev/null || :
  exec su -s /bin/sh -c 'exec "$0" "$@"' postgres -- "$0" "$@"
fi

mkdir -p "$PGDATA"
chmod 700 "$PGDATA" 2>/dev/null || :
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "\${POSTGRES_USER:=postgres}"
  : "\${POSTGRES_DB:=$POSTGRES_USER}"
  auth=\${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
  if [ -z "\${POSTGRES_PASSWORD:-}" ] && [ "$auth" != trust ]; then
    echo 'Error: Database is uninitialized and superuser password is not specified.' >&2
    echo '       Set POSTGRES_PASSWORD to a non-empty value for the superuser, or' >&2
    echo '       POSTGRES_HOST_AUTH_METHOD=trust to allow all connections without a password.' >&2
    exit 1
  fi
  pwfile=
  if [ -n "\${POSTGRES_PASSWORD:-}" ]; then
    pwfile=$(mktemp)
    trap 'rm -f "$pwfile"' EXIT
    printf '%s\\n' "$POSTGRES_PASSWORD" >"$pwfile"
  fi
  # POSTGRES_INITDB_ARGS is split into words, as the official entrypoint does.
  initdb --username="$POSTGRES_USER" \${pwfile:+"--pwfile=$pwfile"} \\
    --auth-local=trust --auth-host="$auth" --encoding=UTF8 --locale=C \${POSTGRES_INITDB_ARGS:-}
  rm -f "$pwfile"
  trap - EXIT
  printf '\\nhost all all all %s\\n' "$auth" >>"$PGDATA/pg_hba.conf"

  export PGPASSWORD="\${PGPASSWORD:-\${POSTGRES_PASSWORD:-}}"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p \${PGPORT:-5432}" -w start
  psql_run() {
    psql -v ON_ERROR_STOP=1 --no-psqlrc --no-password --username="$POSTGRES_USER" "$@"
  }
  if [ "$POSTGRES_DB" != postgres ]; then
    echo 'CREATE DATABASE :"db" ;' | psql_run --dbname=postgres --set db="$POSTGRES_DB"
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh) echo "$0: running $f"; if [ -x "$f" ]; then "$f"; else . "$f"; fi ;;
      *.sql) echo "$0: running $f"; psql_run --dbname="$POSTGRES_DB" -f "$f" ;;
      *.sql.gz) echo "$0: running $f"; gunzip -c "$f" | psql_run --dbname="$POSTGRES_DB" ;;
      *) if [ -e "$f" ]; then echo "$0: ignoring $f"; fi ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop
  unset PGPASSWORD
  echo
  echo 'PostgreSQL init process complete; ready for start up.'
  echo
fi
exec "$@"
`;

/**
 * A check of the whole image: the entrypoint run as root (as the image's
 * default user) initialises PGDATA as postgres, creates POSTGRES_DB, and the
 * server answers on its socket in UTC without a warning. A container runtime
 * mounts /dev/shm; the check's namespace has none until this makes one.
 */
const POSTGRES_CHECK = `set -e
mkdir -p /dev/shm
docker-entrypoint.sh postgres -c listen_addresses= >/tmp/check.log 2>&1 &
pid=$!
i=0
until grep -qs 'init process complete' /tmp/check.log && pg_isready -q; do
  i=$((i + 1))
  if [ $i -gt 240 ] || ! kill -0 $pid 2>/dev/null; then cat /tmp/check.log; exit 1; fi
  sleep 0.25
done
psql -U postgres -d checks -Atc "select 40 + 2, current_setting('TimeZone'), current_database()"
stat -c 'PGDATA owned by %U' "$PGDATA/PG_VERSION"
kill -INT $pid
wait $pid
if grep -E 'WARNING|ERROR|PANIC' /tmp/check.log; then exit 1; fi
`;

/**
 * Not Apache: BusyBox httpd. As PID 1 it would ignore SIGTERM (no handler),
 * making every pod deletion wait out its grace period; the shell's trap
 * stops it as Apache stops on SIGTERM or SIGWINCH.
 */
const HTTPD_FOREGROUND = `#!/bin/sh
# A stand-in for Apache httpd: BusyBox httpd serving /usr/local/apache2/htdocs on port 80.
busybox httpd -f -v -p 80 -h /usr/local/apache2/htdocs "$@" &
pid=$!
trap 'kill $pid' TERM INT WINCH
wait $pid
`;

/** kube-proxy's iptables mode programs these tables through iptables-restore. */
const KUBE_PROXY_RULES = `*nat
:KUBE-CHECK - [0:0]
-A KUBE-CHECK -m comment --comment "sandbox image check" -m mark --mark 0x4000/0x4000 -j MASQUERADE
-A KUBE-CHECK -p tcp -m statistic --mode random --probability 0.5 -j DNAT --to-destination 10.0.0.1:80
-A KUBE-CHECK -m addrtype --dst-type LOCAL -j RETURN
COMMIT
*filter
:KUBE-CHECK - [0:0]
-A KUBE-CHECK -m conntrack --ctstate INVALID -j DROP
-A KUBE-CHECK -p tcp -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable
COMMIT
`;

/** The commands kube-proxy runs by these names; Debian's alternatives would point them at the nft backend. */
const IPTABLES_NAMES = ['iptables', 'ip6tables'].flatMap((base) =>
  ['', '-save', '-restore'].flatMap((suffix) => [`${base}${suffix}`, `${base}-nft${suffix}`]),
);

function pauseTagOf(makefile: string): string | undefined {
  return /^TAG \?= (\S+)$/m.exec(makefile)?.[1];
}

/**
 * Debian's iptables (nf_tables backend, every xtables extension), conntrack
 * and ipset with their libraries, and the /etc files rules name protocols
 * and services from: what kube-proxy and kube-router call.
 */
async function copyNetfilterTools(
  ctx: RecipeContext,
  root: Parameters<Parameters<RecipeContext['layer']>[2]>[0],
): Promise<void> {
  const tree = await ctx.debian.unpack(['iptables', 'conntrack', 'ipset', 'netbase']);
  const extensions = (await readdir(join(tree, MULTIARCH, 'xtables')))
    .filter((f) => f.endsWith('.so'))
    .map((f) => `${MULTIARCH}/xtables/${f}`);
  await root.copyWithLibraries(tree, [
    '/usr/sbin/xtables-nft-multi',
    '/usr/sbin/conntrack',
    '/usr/sbin/ipset',
    ...extensions,
  ]);
  for (const name of IPTABLES_NAMES) await root.symlink(`/usr/sbin/${name}`, 'xtables-nft-multi');
  for (const file of ['/etc/protocols', '/etc/services', '/etc/ethertypes'])
    await root.copyFrom(tree, file);
  await root.mkdir('/run');
}

/** Copies a directory of an unpacked package tree as it is there (links stay links), but `skip`. */
async function copyDirectory(
  root: RootFs,
  tree: string,
  dir: string,
  skip: string[] = [],
): Promise<void> {
  for (const entry of await readdir(join(tree, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (skip.includes(path)) continue;
    if (entry.isDirectory()) await copyDirectory(root, tree, path, skip);
    else await root.copyFrom(tree, path);
  }
}

/**
 * The directories the official postgres image gives its postgres user:
 * PGDATA (1777, so an arbitrary PGDATA below it can be made) and the
 * socket directory (3777), with /var/run a link to /run as on Debian.
 */
async function postgresDirectoriesLayer(ctx: RecipeContext): Promise<LayerSource> {
  const layer = await ctx.layer(
    'postgres-directories',
    `/var/lib/postgresql/data and /var/run/postgresql owned by postgres (${PG_UID})`,
    async (root) => {
      await root.mkdir('/var/lib/postgresql/data', 0o1777);
      await root.mkdir('/run/postgresql', 0o3777);
      await root.symlink('/var/run', '/run');
      for (const dir of ['/var/lib/postgresql', '/var/lib/postgresql/data', '/run/postgresql'])
        await chown(root.path(dir), PG_UID, PG_UID);
    },
  );
  return { ...layer, keepOwners: true };
}

/** The catalogue for these versions: the table above, as data. */
export function imageRecipes(versions: CatalogueVersions): ImageRecipe[] {
  const k8s = versions.kubernetes;
  const etcd = versions.etcd.replace(/^v/, '');
  const versionCheck = (path: string): ImageCheck => ({
    command: [path, '--version'],
    expect: `Kubernetes ${k8s}`,
  });
  const controlPlane = (
    ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const
  ).map((program): ImageRecipe => ({
    name: `registry.k8s.io/${program}`,
    tags: [k8s],
    builtFrom: `the sandbox's ${program} at /usr/local/bin/${program}`,
    really: `${program} ${k8s}, nothing else (upstream's image adds go-runner)`,
    needs: [program],
    debianPackages: [],
    checks: [versionCheck(`/usr/local/bin/${program}`)],
    build: (ctx) =>
      binaryImage(
        ctx,
        [{ program, path: `/usr/local/bin/${program}` }],
        { entrypoint: [`/usr/local/bin/${program}`] },
        program,
      ),
  }));

  return [
    {
      name: 'registry.k8s.io/pause',
      tags: ['3.10.1', '3.10.2'],
      builtFrom: `build/pause/linux/pause.c of the k8s.io/kubernetes ${k8s} module, gcc -Os -static`,
      really: 'the Kubernetes pause program, as in upstream pause:3.10.x; runs as 65535:65535',
      needs: [],
      debianPackages: [],
      checks: [{ command: ['/pause', '-v'], expect: 'pause.c v' }],
      async build(ctx) {
        const { stdout } = await run(
          'go',
          ['mod', 'download', '-json', `k8s.io/kubernetes@${k8s}`],
          {
            cwd: ctx.workDir,
            env: { ...process.env, GOFLAGS: '', GOWORK: 'off' },
            maxBuffer: 4 * 1024 * 1024,
          },
        );
        const module = JSON.parse(stdout) as { Dir?: string; Error?: string };
        if (!module.Dir)
          throw new Error(`go mod download k8s.io/kubernetes@${k8s}: ${module.Error}`);
        const source = join(module.Dir, 'build/pause');
        const tag = pauseTagOf(await readFile(join(source, 'Makefile'), 'utf8'));
        if (!tag) throw new Error(`no TAG in ${source}/Makefile`);
        const layer = await ctx.layer(
          'pause',
          `gcc -static pause.c (pause ${tag})`,
          async (root) => {
            // The Makefile's flags, without its git-describe suffix (a module zip has no git).
            await run('gcc', [
              '-Os',
              '-Wall',
              '-Werror',
              '-static',
              `-DVERSION=v${tag}`,
              '-o',
              root.path('/pause'),
              join(source, 'linux/pause.c'),
            ]).catch((error: { stderr?: string }) => {
              throw new Error(
                `gcc -static pause.c failed (static linking needs libc6-dev): ${error.stderr}`,
              );
            });
          },
        );
        return {
          layers: [layer],
          config: { entrypoint: ['/pause'], user: '65535:65535' },
          extraTags: [tag],
        };
      },
    },
    {
      name: 'busybox',
      tags: ['1.36', '1.37', 'latest'],
      builtFrom:
        'Debian busybox-static, a link per applet in /bin, /etc/passwd and /etc/group with root and nobody, /tmp',
      really: "Debian 12's BusyBox whatever the tag says (its `wget -T` crashes; plain wget works)",
      needs: [],
      debianPackages: ['busybox-static'],
      checks: [{ command: ['/bin/sh', '-c', 'echo ok; id -un nobody'], expect: 'ok\nnobody' }],
      build: async (ctx) => ({
        layers: [await busyboxLayer(ctx)],
        config: { env: [PATH], cmd: ['sh'] },
      }),
    },
    {
      name: 'alpine',
      tags: ['3.20', 'latest'],
      builtFrom: "the busybox image's files, Cmd /bin/sh",
      really: 'a BusyBox shell image, not Alpine Linux: no apk, glibc not musl',
      needs: [],
      debianPackages: ['busybox-static'],
      checks: [{ command: ['/bin/sh', '-c', 'echo ok'], expect: 'ok' }],
      build: async (ctx) => ({
        layers: [await busyboxLayer(ctx)],
        config: { env: [PATH], cmd: ['/bin/sh'] },
      }),
    },
    {
      name: 'httpd',
      tags: ['2.4', 'latest'],
      builtFrom: 'the busybox image + /usr/local/bin/httpd-foreground running BusyBox httpd',
      really:
        'a stand-in, not Apache: BusyBox httpd serving /usr/local/apache2/htdocs ("It works!") on port 80 in the foreground',
      needs: [],
      debianPackages: ['busybox-static'],
      checks: [
        {
          command: [
            '/bin/sh',
            '-c',
            'test -x /usr/local/bin/httpd-foreground && cat /usr/local/apache2/htdocs/index.html',
          ],
          expect: 'It works!',
        },
      ],
      async build(ctx) {
        const layer = await ctx.layer(
          'httpd',
          'httpd-foreground (BusyBox httpd), htdocs',
          async (root) => {
            await root.file('/usr/local/bin/httpd-foreground', HTTPD_FOREGROUND, 0o755);
            await root.file(
              '/usr/local/apache2/htdocs/index.html',
              '<html><body><h1>It works!</h1></body></html>\n',
            );
          },
        );
        return {
          layers: [await busyboxLayer(ctx), layer],
          config: {
            env: [PATH],
            cmd: ['httpd-foreground'],
            workingDir: '/usr/local/apache2',
            exposedPorts: ['80/tcp'],
          },
        };
      },
    },
    {
      name: 'nginx',
      tags: ['1.25', '1.26', '1.27', 'latest', 'alpine'],
      builtFrom:
        'Debian nginx + its libraries (ldd), nginx-common mime.types, our nginx.conf and conf.d/default.conf, on the busybox files',
      really:
        "Debian 12's nginx whatever the tag (alpine too); master as root, workers as nobody, port 80, logs to stdout/stderr",
      needs: [],
      debianPackages: ['nginx', 'nginx-common', 'busybox-static'],
      checks: [{ command: ['/usr/sbin/nginx', '-t'], expect: 'test is successful' }],
      async build(ctx) {
        const layer = await ctx.layer('nginx', 'Debian nginx with its libraries', async (root) => {
          const tree = await ctx.debian.unpack(['nginx', 'nginx-common']);
          await root.copyWithLibraries(tree, ['/usr/sbin/nginx']);
          for (const file of NGINX_COMMON_FILES) await root.copyFrom(tree, `/etc/nginx/${file}`);
          await root.file('/etc/nginx/nginx.conf', NGINX_CONF);
          await root.file('/etc/nginx/conf.d/default.conf', NGINX_DEFAULT_SERVER);
          await root.file('/usr/share/nginx/html/index.html', NGINX_INDEX);
          await root.file('/usr/share/nginx/html/50x.html', NGINX_ERROR);
          // As in the official image: the log files are the container's output.
          await root.symlink('/var/log/nginx/access.log', '/dev/stdout');
          await root.symlink('/var/log/nginx/error.log', '/dev/stderr');
          // Debian's build keeps its temp files here; nginx creates the subfolders.
          await root.mkdir('/var/lib/nginx');
          await root.mkdir('/run');
        });
        return {
          layers: [await busyboxLayer(ctx), layer],
          config: {
            env: [PATH],
            cmd: ['nginx', '-g', 'daemon off;'],
            exposedPorts: ['80/tcp'],
            stopSignal: 'SIGQUIT',
          },
        };
      },
    },
    {
      name: 'redis',
      tags: ['7', 'latest', 'alpine'],
      builtFrom:
        'Debian redis-server/redis-tools + libraries (ldd), a docker-entrypoint.sh, on the busybox files',
      really:
        "Debian 12's Redis 7.0 whatever the tag; port 6379, protected mode off (added by its entrypoint), runs as root in /data",
      needs: [],
      debianPackages: ['redis-server', 'redis-tools', 'busybox-static'],
      checks: [{ command: ['/usr/bin/redis-server', '--version'], expect: 'Redis server v=7' }],
      async build(ctx) {
        const layer = await ctx.layer(
          'redis',
          'Debian redis-server with its libraries',
          async (root) => {
            const tree = await ctx.debian.unpack(['redis-server', 'redis-tools']);
            await root.copyWithLibraries(tree, [
              '/usr/bin/redis-check-rdb',
              '/usr/bin/redis-check-aof',
              '/usr/bin/redis-cli',
              '/usr/bin/redis-benchmark',
            ]);
            await root.copyFrom(tree, '/usr/bin/redis-server');
            await root.file('/usr/local/bin/docker-entrypoint.sh', REDIS_ENTRYPOINT, 0o755);
            await root.mkdir('/data');
          },
        );
        return {
          layers: [await busyboxLayer(ctx), layer],
          config: {
            env: [PATH],
            entrypoint: ['docker-entrypoint.sh'],
            cmd: ['redis-server'],
            workingDir: '/data',
            exposedPorts: ['6379/tcp'],
          },
        };
      },
    },
    {
      name: 'postgres',
      tags: [PG_MAJOR, 'latest'],
      builtFrom:
        'Debian postgresql-15/postgresql-client-15 (every program, the server modules but llvmjit, the share files) + libraries (ldd), tzdata, a docker-entrypoint.sh, on the busybox files',
      really: `Debian 12's PostgreSQL ${PG_MAJOR} whatever the tag (latest too); the official image's first start (initdb with POSTGRES_USER and POSTGRES_PASSWORD, scram-sha-256 for every host, POSTGRES_DB, /docker-entrypoint-initdb.d) in BusyBox sh; locale C (UTF8), timezone Etc/UTC; port 5432; runs as postgres (${PG_UID}), as root it drops to postgres through BusyBox su; any other uid fails (no nss_wrapper)`,
      needs: [],
      debianPackages: ['postgresql-15', 'postgresql-client-15', 'tzdata', 'busybox-static'],
      checks: [
        { command: [`${PG_LIB}/bin/postgres`, '--version'], expect: `(PostgreSQL) ${PG_MAJOR}.` },
        { command: [`${PG_LIB}/bin/psql`, '--version'], expect: `(PostgreSQL) ${PG_MAJOR}.` },
        {
          command: [
            '/bin/env',
            '-i',
            `PATH=/usr/local/bin:/usr/bin:/bin:${PG_LIB}/bin`,
            'PGDATA=/var/lib/postgresql/data',
            'POSTGRES_PASSWORD=check',
            'POSTGRES_DB=checks',
            '/bin/sh',
            '-c',
            POSTGRES_CHECK,
          ],
          expect: '42|Etc/UTC|checks\nPGDATA owned by postgres',
        },
      ],
      async build(ctx) {
        const layer = await ctx.layer(
          'postgres',
          'Debian postgresql-15 and postgresql-client-15 with their libraries, tzdata',
          async (root) => {
            const tree = await ctx.debian.unpack([
              'postgresql-15',
              'postgresql-client-15',
              'tzdata',
            ]);
            const programs = (await readdir(join(tree, PG_LIB, 'bin'))).map(
              (p) => `${PG_LIB}/bin/${p}`,
            );
            // Every server module (contrib, encodings, plpgsql, snowball), not the JIT.
            const modules = (await readdir(join(tree, PG_LIB, 'lib')))
              .filter((f) => f.endsWith('.so') && !f.startsWith('llvmjit'))
              .map((f) => `${PG_LIB}/lib/${f}`);
            await root.copyWithLibraries(tree, [...programs, ...modules]);
            await copyDirectory(root, tree, PG_SHARE, [`${PG_SHARE}/man`]);
            // As the official image: initdb copies this sample, so the server listens everywhere.
            const sample = await readFile(join(tree, PG_SHARE, 'postgresql.conf.sample'), 'utf8');
            await root.file(
              `${PG_SHARE}/postgresql.conf.sample`,
              sample.replace(/^#?(listen_addresses)\s*=\s*\S+.*$/m, "$1 = '*'"),
            );
            // Debian's build reads the system's zone files; initdb names the zone /etc/localtime links to.
            await copyDirectory(root, tree, '/usr/share/zoneinfo');
            await root.symlink('/etc/localtime', '/usr/share/zoneinfo/Etc/UTC');
            // initdb imports the collations `locale -a` lists, and warns when there are none
            // but C: the host's (its libc is the images') locale program and C.UTF-8.
            await root.copy('/usr/bin/locale', '/usr/bin/locale', 0o755);
            await copyDirectory(root, '/', '/usr/lib/locale/C.utf8');
            await root.file(
              '/etc/passwd',
              `root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\npostgres:x:${PG_UID}:${PG_UID}:PostgreSQL administrator:/var/lib/postgresql:/bin/sh\n`,
            );
            await root.file('/etc/group', `root:x:0:\nnobody:x:65534:\npostgres:x:${PG_UID}:\n`);
            await root.file('/usr/local/bin/docker-entrypoint.sh', POSTGRES_ENTRYPOINT, 0o755);
            await root.mkdir('/docker-entrypoint-initdb.d');
          },
        );
        return {
          layers: [await busyboxLayer(ctx), layer, await postgresDirectoriesLayer(ctx)],
          config: {
            env: [
              `${PATH}:${PG_LIB}/bin`,
              `PG_MAJOR=${PG_MAJOR}`,
              `PG_VERSION=${ctx.debian.versions()['postgresql-15']}`,
              'PGDATA=/var/lib/postgresql/data',
            ],
            entrypoint: ['docker-entrypoint.sh'],
            cmd: ['postgres'],
            exposedPorts: ['5432/tcp'],
            stopSignal: 'SIGINT',
          },
        };
      },
    },
    {
      name: 'registry.k8s.io/e2e-test-images/agnhost',
      tags: ['2.53', '2.52'],
      builtFrom: "the sandbox's agnhost at /agnhost, on the busybox files",
      really: `agnhost from k8s.io/kubernetes ${k8s}/test/images/agnhost whatever the tag; Entrypoint /agnhost, Cmd pause`,
      needs: ['agnhost'],
      debianPackages: ['busybox-static'],
      checks: [{ command: ['/agnhost', '--help'], expect: 'netexec' }],
      async build(ctx) {
        const layer = await ctx.layer('agnhost', 'agnhost', (root) =>
          root.copy(ctx.program('agnhost'), '/agnhost', 0o755),
        );
        return {
          layers: [await busyboxLayer(ctx), layer],
          config: { env: [PATH], entrypoint: ['/agnhost'], cmd: ['pause'] },
        };
      },
    },
    ...controlPlane,
    {
      name: 'registry.k8s.io/kube-proxy',
      tags: [k8s],
      builtFrom:
        "the sandbox's kube-proxy + Debian iptables (xtables-nft-multi, its extensions), conntrack, ipset, netbase's /etc files, with their libraries (ldd)",
      really: `kube-proxy ${k8s} with iptables 1.8 on the nf_tables backend (iptables, ip6tables, -save, -restore), conntrack and ipset; no legacy-iptables wrapper`,
      needs: ['kube-proxy'],
      debianPackages: ['iptables', 'conntrack', 'ipset', 'netbase'],
      checks: [
        versionCheck('/usr/local/bin/kube-proxy'),
        { command: ['/usr/sbin/iptables', '--version'], expect: '(nf_tables)' },
        { command: ['/usr/sbin/iptables-restore', '--noflush'], stdin: KUBE_PROXY_RULES },
        { command: ['/usr/sbin/conntrack', '--version'], expect: 'conntrack v' },
        { command: ['/usr/sbin/ipset', '--version'], expect: 'ipset v' },
      ],
      async build(ctx) {
        const layer = await ctx.layer(
          'kube-proxy',
          'kube-proxy, iptables (nft), conntrack, ipset',
          async (root) => {
            await copyNetfilterTools(ctx, root);
            await root.copy(ctx.program('kube-proxy'), '/usr/local/bin/kube-proxy', 0o755);
          },
        );
        return {
          layers: [await staticBaseLayer(ctx), layer],
          config: { env: [PATH, SYSTEM_GO_ENV], entrypoint: ['/usr/local/bin/kube-proxy'] },
        };
      },
    },
    {
      name: 'registry.k8s.io/etcd',
      tags: [`${etcd}-0`],
      builtFrom: "the sandbox's etcd, etcdctl and etcdutl in /usr/local/bin",
      really: `etcd ${versions.etcd} with etcdctl and etcdutl (for \`kubectl exec etcd-… -- etcdctl\`)`,
      needs: ['etcd'],
      debianPackages: [],
      checks: [
        { command: ['/usr/local/bin/etcd', '--version'], expect: `etcd Version: ${etcd}` },
        { command: ['/usr/local/bin/etcdctl', 'version'], expect: 'etcdctl version' },
      ],
      build: (ctx) =>
        binaryImage(
          ctx,
          [
            { program: 'etcd', path: '/usr/local/bin/etcd' },
            { program: 'etcdctl', path: '/usr/local/bin/etcdctl' },
            { program: 'etcdutl', path: '/usr/local/bin/etcdutl' },
          ],
          { cmd: ['/usr/local/bin/etcd'] },
          'etcd',
        ),
    },
    {
      name: 'registry.k8s.io/coredns/coredns',
      tags: versions.coredns ? [versions.coredns] : [],
      missing: versions.coredns ? undefined : 'no CoreDNS version given',
      builtFrom: "the sandbox's coredns at /coredns",
      really: `CoreDNS ${versions.coredns ?? '(version not given)'} built from source; runs as root (upstream: nonroot with a file capability)`,
      needs: ['coredns'],
      debianPackages: [],
      checks: [
        {
          command: ['/coredns', '-version'],
          expect: `CoreDNS-${versions.coredns?.replace(/^v/, '')}`,
        },
      ],
      build: (ctx) =>
        binaryImage(
          ctx,
          [{ program: 'coredns', path: '/coredns' }],
          { entrypoint: ['/coredns'], exposedPorts: ['53/tcp', '53/udp'] },
          'coredns',
        ),
    },
    {
      name: 'registry.k8s.io/metrics-server/metrics-server',
      tags: versions.metricsServer ? [versions.metricsServer] : [],
      missing: versions.metricsServer ? undefined : 'no metrics-server version given',
      builtFrom: "the sandbox's metrics-server at /metrics-server",
      really: `metrics-server ${versions.metricsServer ?? '(version not given)'} built from source (its --version says v0.0.0-master: built without version ldflags); user 65534`,
      needs: ['metrics-server'],
      debianPackages: [],
      checks: [{ command: ['/metrics-server', '--help'], expect: 'metrics-server' }],
      build: (ctx) =>
        binaryImage(
          ctx,
          [{ program: 'metrics-server', path: '/metrics-server' }],
          { entrypoint: ['/metrics-server'], user: '65534' },
          'metrics-server',
        ),
    },
    {
      name: 'docker.io/cloudnativelabs/kube-router',
      tags: versions.kubeRouter ? [versions.kubeRouter] : [],
      missing: versions.kubeRouter ? undefined : 'no kube-router version given',
      builtFrom:
        "the sandbox's kube-router + the same Debian iptables (nft), conntrack and ipset as kube-proxy's image",
      really: `kube-router ${versions.kubeRouter ?? '(version not given)'} built from source, run with only its NetworkPolicy firewall on; no BGP tools (gobgp) inside`,
      needs: ['kube-router'],
      debianPackages: ['iptables', 'conntrack', 'ipset', 'netbase'],
      checks: [
        { command: ['/usr/local/bin/kube-router', '--help'], expect: 'run-firewall' },
        { command: ['/usr/sbin/ipset', '--version'], expect: 'ipset v' },
      ],
      async build(ctx) {
        const layer = await ctx.layer(
          'kube-router',
          'kube-router, iptables (nft), ipset',
          async (root) => {
            await copyNetfilterTools(ctx, root);
            await root.copy(ctx.program('kube-router'), '/usr/local/bin/kube-router', 0o755);
          },
        );
        return {
          layers: [await staticBaseLayer(ctx), layer],
          config: { env: [PATH, SYSTEM_GO_ENV], entrypoint: ['/usr/local/bin/kube-router'] },
        };
      },
    },
  ];
}

/** One row of the catalogue as built (or skipped). */
export interface CatalogueEntry {
  name: string;
  tags: string[];
  /** Full names as containerd reports them: docker.io/library/busybox:1.36. */
  references: string[];
  /** The repository in the local registry (see registry.ts for the mapping). */
  repository: string;
  builtFrom: string;
  really: string;
  /** Manifest digest. */
  digest?: string;
  /** Bytes of its layers and configuration as stored (shared layers counted in each image). */
  size?: number;
  /** Debian packages in it, with versions (their library dependencies not listed). */
  packages?: Record<string, string>;
  /** Why it was not built. */
  skipped?: string;
}

/** The catalogue as a Markdown table (for the README or a log). */
export function formatCatalogue(entries: CatalogueEntry[]): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const rows = entries.map((e) => {
    const packages = Object.entries(e.packages ?? {})
      .map(([p, v]) => `${p} ${v}`)
      .join(', ');
    const size = e.size === undefined ? '' : `${(e.size / 1024 / 1024).toFixed(1)} MiB`;
    const what = e.skipped ? `not built: ${e.skipped}` : e.really;
    return `| ${cell(e.name)}:${e.tags.join(', ')} | ${cell(e.builtFrom)} | ${cell(what)} | ${cell(packages)} | ${size} |`;
  });
  return [
    '| image:tags | built from | what it really is | Debian packages | size |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}
