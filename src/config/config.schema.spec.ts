import { ConfigValidationError, loadConfig } from './config.schema.js';

describe('loadConfig', () => {
  it('runs on embedded defaults: SQLite file, local Redis, HTTP and worker in one process', () => {
    const config = loadConfig({});
    expect(config.database).toMatchObject({ type: 'sqlite', migrationsRun: true });
    expect(config.database.type === 'sqlite' && config.database.path).toMatch(
      /data\/engine\.sqlite$/,
    );
    expect(config.redis).toEqual({ url: 'redis://127.0.0.1:6379', prefix: 'cka' });
    expect(config.http).toEqual({
      host: '127.0.0.1',
      port: 3000,
      trustProxy: false,
      cookieSecurity: 'auto',
    });
    expect(config.limits).toEqual({
      publicRequests: { limit: 120, windowMs: 60_000 },
      sessionStarts: { limit: 5, windowMs: 600_000 },
      maxActiveSessions: 100,
      maxActiveSessionsPerClient: 2,
    });
    expect(config.worker.enabled).toBe(true);
  });

  it('uses PostgreSQL when DATABASE_URL is set and parses typed values', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://u:p@db:5432/engine',
      PORT: '8080',
      WORKER_ENABLED: 'false',
      DB_MIGRATIONS_RUN: '0',
    });
    expect(config.database).toEqual({
      type: 'postgres',
      url: 'postgres://u:p@db:5432/engine',
      migrationsRun: false,
    });
    expect(config.http.port).toBe(8080);
    expect(config.worker.enabled).toBe(false);
  });

  it('parses request windows and the proxy setting, and refuses a window of 0 s', () => {
    const config = loadConfig({
      THROTTLE_PUBLIC: '0/60',
      THROTTLE_SESSION_START: '3/3600',
      TRUST_PROXY: '1',
    });
    expect(config.limits.publicRequests).toEqual({ limit: 0, windowMs: 60_000 });
    expect(config.limits.sessionStarts).toEqual({ limit: 3, windowMs: 3_600_000 });
    expect(config.http.trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).http.trustProxy).toBe(
      'loopback, 10.0.0.0/8',
    );
    expect(() => loadConfig({ THROTTLE_PUBLIC: '10/0' })).toThrow(
      /THROTTLE_PUBLIC: the window must be at least one second/,
    );
    expect(() => loadConfig({ THROTTLE_SESSION_START: 'many' })).toThrow(
      /THROTTLE_SESSION_START: <limit>\/<seconds>/,
    );
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '' }).http.port).toBe(3000);
  });

  it('puts helm in the terminal only when TERMINAL_HELM names one (an absolute path)', () => {
    expect(loadConfig({}).terminal.helm).toBeUndefined();
    expect(loadConfig({ TERMINAL_HELM: '' }).terminal.helm).toBeUndefined();
    expect(loadConfig({ TERMINAL_HELM: 'bin/helm' }).terminal.helm).toBe(
      `${process.cwd()}/bin/helm`,
    );
  });

  it('lists every bad variable at once, with what it expects, and never echoes a URL', () => {
    let error: ConfigValidationError | undefined;
    try {
      loadConfig({
        PORT: 'eighty',
        DATABASE_URL: 'mysql://secret@db/x',
        LOG_LEVEL: 'loud',
        WORKER_ENABLED: 'maybe',
        QUEUE_PREFIX: 'Bad Prefix',
      });
    } catch (e) {
      error = e as ConfigValidationError;
    }
    expect(error).toBeInstanceOf(ConfigValidationError);
    expect(error!.problems.map((p) => p.variable).sort()).toEqual([
      'DATABASE_URL',
      'LOG_LEVEL',
      'PORT',
      'QUEUE_PREFIX',
      'WORKER_ENABLED',
    ]);
    expect(error!.message).toContain('Invalid configuration (5 problems)');
    expect(error!.message).toContain('PORT: ');
    expect(error!.message).toContain('(got "eighty")');
    expect(error!.message).toContain('must start with postgres:// or postgresql://');
    expect(error!.message).not.toContain('secret');
  });

  it('names clusters by alias: main is the current context unless CLUSTERS redefines it', () => {
    expect(loadConfig({ KUBECONFIG: '/k/main', KUBE_CONTEXT: 'ctx' }).clusters).toEqual([
      { alias: 'main', kubeconfig: '/k/main', context: 'ctx' },
    ]);
    expect(loadConfig({ CLUSTERS: 'ek8s=/k/a#admin@ek8s,wk8s=/k/b' }).clusters).toEqual([
      { alias: 'main', kubeconfig: undefined, context: undefined },
      { alias: 'ek8s', kubeconfig: '/k/a', context: 'admin@ek8s' },
      { alias: 'wk8s', kubeconfig: '/k/b', context: undefined },
    ]);
    expect(loadConfig({ CLUSTERS: 'main=/k/x' }).clusters).toEqual([
      { alias: 'main', kubeconfig: '/k/x', context: undefined },
    ]);
    expect(() => loadConfig({ CLUSTERS: 'Bad Alias=/x' })).toThrow(
      /CLUSTERS: alias=\/path\/to\/kubeconfig#context/,
    );
  });
});
