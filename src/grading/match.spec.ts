import { describe, expect, it } from '@jest/globals';
import {
  formatMismatch,
  matchObject,
  MatchSpecError,
  validateMatchSpec,
  type MatchOptions,
} from './match.js';

/** The feedback lines a candidate would read. */
function lines(expected: unknown, actual: unknown, options?: MatchOptions): string[] {
  return matchObject(expected, actual, options).map(formatMismatch);
}

function specError(run: () => unknown): MatchSpecError {
  try {
    run();
  } catch (error) {
    if (error instanceof MatchSpecError) return error;
    throw error;
  }
  throw new Error('expected a MatchSpecError');
}

/** A Deployment as the API server returns it: defaults and injected fields included. */
const liveDeployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'web',
    namespace: 'team-x',
    uid: '6b1f2c1e-0000-4000-8000-000000000000',
    resourceVersion: '4711',
    labels: { app: 'web', 'app.kubernetes.io/name': 'web' },
    annotations: { 'deployment.kubernetes.io/revision': '2' },
  },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: [
          {
            name: 'sidecar',
            image: 'busybox:1.36',
            resources: {},
            terminationMessagePath: '/dev/termination-log',
          },
          {
            name: 'web',
            image: 'nginx:1.25',
            ports: [{ containerPort: 80, protocol: 'TCP' }],
            resources: { limits: { cpu: '500m', memory: '1Gi' }, requests: { cpu: '250m' } },
            volumeMounts: [
              { name: 'kube-api-access-x1', mountPath: '/var/run/secrets/kubernetes.io' },
              { name: 'data', mountPath: '/data' },
            ],
          },
        ],
        tolerations: [
          { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
          { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
          { key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' },
        ],
        volumes: [
          { name: 'kube-api-access-x1', projected: { sources: [] } },
          { name: 'data', emptyDir: {} },
        ],
        restartPolicy: 'Always',
        dnsPolicy: 'ClusterFirst',
      },
    },
  },
  status: { readyReplicas: 2, conditions: [{ type: 'Available', status: 'True' }] },
};

describe('formatMismatch', () => {
  it('writes one line per failing path', () => {
    expect(formatMismatch({ path: 'spec.replicas', expected: '3', actual: '2' })).toBe(
      'spec.replicas: expected 3, got 2',
    );
    expect(formatMismatch({ path: 'x', expected: 'a', actual: 'none', verb: 'found' })).toBe(
      'x: expected a, found none',
    );
    expect(formatMismatch({ path: '', expected: '3', actual: '2' })).toBe('expected 3, got 2');
  });
});

describe('matchObject: maps', () => {
  it('matches a partial object and ignores everything the live object adds', () => {
    expect(
      matchObject(
        {
          metadata: { name: 'web', labels: { app: 'web' } },
          spec: { replicas: 2, template: { spec: { restartPolicy: 'Always' } } },
        },
        liveDeployment,
      ),
    ).toEqual([]);
  });

  it('reports a wrong scalar with its path', () => {
    expect(lines({ spec: { replicas: 3 } }, liveDeployment)).toEqual([
      'spec.replicas: expected 3, got 2',
    ]);
  });

  it('reports a missing key as nothing, and an absent parent by its missing leaves', () => {
    expect(lines({ metadata: { labels: { tier: 'db' } } }, liveDeployment)).toEqual([
      'metadata.labels.tier: expected "db", got nothing',
    ]);
    expect(lines({ metadata: { labels: { tier: 'db' } } }, { metadata: {} })).toEqual([
      'metadata.labels.tier: expected "db", got nothing',
    ]);
    expect(lines({ spec: { a: 1, b: { c: 'x' } } }, {})).toEqual([
      'spec.a: expected 1, got nothing',
      'spec.b.c: expected "x", got nothing',
    ]);
  });

  it('reports a map where the object has something else', () => {
    expect(
      lines({ spec: { selector: { app: 'web' } } }, { spec: { selector: 'app=web' } }),
    ).toEqual(['spec.selector: expected {"app":"web"}, got "app=web"']);
    expect(lines({ a: { b: 1 } }, { a: [1] })).toEqual(['a: expected {"b":1}, got [1]']);
  });

  it('follows the expected key order, whatever the live order', () => {
    expect(lines({ b: 1, a: 1, c: { z: 1, y: 1 } }, { c: { y: 2, z: 2 }, a: 2, b: 2 })).toEqual([
      'b: expected 1, got 2',
      'a: expected 1, got 2',
      'c.z: expected 1, got 2',
      'c.y: expected 1, got 2',
    ]);
  });

  it('quotes keys that contain dots or slashes', () => {
    expect(
      lines({ metadata: { labels: { 'app.kubernetes.io/name': 'api' } } }, liveDeployment),
    ).toEqual(['metadata.labels["app.kubernetes.io/name"]: expected "api", got "web"']);
  });

  it('does not read inherited properties as fields', () => {
    expect(lines({ constructor: 'x', toString: 'y' }, {})).toEqual([
      'constructor: expected "x", got nothing',
      'toString: expected "y", got nothing',
    ]);
  });

  it('treats null as "null or absent"', () => {
    expect(matchObject({ spec: { nodeName: null } }, { spec: {} })).toEqual([]);
    expect(matchObject({ spec: { nodeName: null } }, { spec: { nodeName: null } })).toEqual([]);
    expect(matchObject({ spec: { nodeName: null } }, {})).toEqual([]);
    expect(lines({ spec: { nodeName: null } }, { spec: { nodeName: 'node-1' } })).toEqual([
      'spec.nodeName: expected null, got "node-1"',
    ]);
  });

  it('renders structures as compact JSON cut to one line', () => {
    const [line] = lines({ data: 'x' }, { data: { big: 'y'.repeat(300) } });
    const rendered = line.slice('data: expected "x", got '.length);
    expect(rendered.startsWith('{"big":"yyy')).toBe(true);
    expect(rendered.endsWith('…')).toBe(true);
    expect(rendered.length).toBeLessThanOrEqual(120);
  });
});

describe('matchObject: scalars', () => {
  it('equates int-or-string values both ways', () => {
    expect(matchObject({ port: 80 }, { port: '80' })).toEqual([]);
    expect(matchObject({ targetPort: '8080' }, { targetPort: 8080 })).toEqual([]);
    expect(lines({ port: 80 }, { port: '8080' })).toEqual(['port: expected 80, got "8080"']);
    expect(lines({ targetPort: 'http' }, { targetPort: 80 })).toEqual([
      'targetPort: expected "http", got 80',
    ]);
  });

  it('compares quantities by value', () => {
    const limits = { cpu: '500m', memory: '1Gi' };
    expect(matchObject({ limits: { cpu: 0.5, memory: '1024Mi' } }, { limits })).toEqual([]);
    expect(matchObject({ limits: { cpu: '0.5' } }, { limits })).toEqual([]);
    expect(matchObject({ cpu: 1 }, { cpu: '1000m' })).toEqual([]);
    expect(matchObject({ cpu: '1000m' }, { cpu: '1' })).toEqual([]);
    expect(matchObject({ storage: '1e3' }, { storage: '1k' })).toEqual([]);
    expect(lines({ limits: { memory: '1G' } }, { limits })).toEqual([
      'limits.memory: expected "1G", got "1Gi"',
    ]);
  });

  it('compares two bare numeric strings as text (they are often versions)', () => {
    expect(lines({ version: '1.30' }, { version: '1.3' })).toEqual([
      'version: expected "1.30", got "1.3"',
    ]);
    expect(matchObject({ version: 1.3 }, { version: '1.30' })).toEqual([]);
  });

  it('never equates booleans with strings', () => {
    expect(lines({ readOnly: true }, { readOnly: 'true' })).toEqual([
      'readOnly: expected true, got "true"',
    ]);
    expect(lines({ flag: 'false' }, { flag: false })).toEqual([
      'flag: expected "false", got false',
    ]);
    expect(lines({ n: 1 }, { n: true })).toEqual(['n: expected 1, got true']);
    expect(matchObject({ readOnly: false }, { readOnly: false })).toEqual([]);
  });

  it('reports a scalar where a structure is', () => {
    expect(lines({ spec: 'x' }, { spec: { a: 1 } })).toEqual(['spec: expected "x", got {"a":1}']);
  });
});

describe('matchObject: lists as subsets (the default)', () => {
  it('ignores tolerations and volumes the API server injected', () => {
    expect(
      matchObject(
        {
          spec: {
            template: {
              spec: {
                tolerations: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }],
                volumes: [{ name: 'data', emptyDir: {} }],
                containers: [{ name: 'web', volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
              },
            },
          },
        },
        liveDeployment,
      ),
    ).toEqual([]);
  });

  it('accepts any order', () => {
    expect(matchObject({ args: ['b', 'a'] }, { args: ['a', 'b', 'c'] })).toEqual([]);
  });

  it('needs a distinct actual element per expected element', () => {
    expect(lines({ args: ['a', 'a'] }, { args: ['a', 'b'] })).toEqual([
      'args: expected an element matching "a", found none among 2',
    ]);
    expect(matchObject({ args: ['a', 'a'] }, { args: ['a', 'b', 'a'] })).toEqual([]);
  });

  it('assigns elements globally, so a loose element cannot steal a strict one', () => {
    // A greedy first fit gives web's container to the loose element and fails a correct answer.
    const expected = {
      containers: [{ image: 'nginx:1.27' }, { name: 'web', image: 'nginx:1.27' }],
    };
    const actual = {
      containers: [
        { name: 'web', image: 'nginx:1.27' },
        { name: 'proxy', image: 'nginx:1.27' },
      ],
    };
    expect(matchObject(expected, actual)).toEqual([]);

    const withOperators = {
      containers: [{ image: { $regex: '^nginx' } }, { image: 'nginx:1.27' }],
    };
    const twoNginx = { containers: [{ image: 'nginx:1.27' }, { image: 'nginx:1.25' }] };
    expect(matchObject(withOperators, twoNginx)).toEqual([]);
  });

  it('blames the element with the same name, deep down', () => {
    expect(
      lines(
        {
          spec: {
            template: {
              spec: {
                containers: [
                  { name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 8080 }] },
                ],
              },
            },
          },
        },
        liveDeployment,
      ),
    ).toEqual([
      'spec.template.spec.containers[name=web].image: expected "nginx:1.27", got "nginx:1.25"',
      'spec.template.spec.containers[name=web].ports: expected an element matching {"containerPort":8080}, found none among 1',
    ]);
  });

  it('identifies elements by other keys when there is no name to go by', () => {
    expect(
      lines(
        { ports: [{ name: 'http', containerPort: 80, protocol: 'UDP' }] },
        { ports: [{ containerPort: 80, protocol: 'TCP' }] },
      ),
    ).toEqual([
      'ports[containerPort=80].name: expected "http", got nothing',
      'ports[containerPort=80].protocol: expected "UDP", got "TCP"',
    ]);
    expect(
      lines(
        { conditions: [{ type: 'Available', status: 'True' }] },
        { conditions: [{ type: 'Available', status: 'False' }] },
      ),
    ).toEqual(['conditions[type=Available].status: expected "True", got "False"']);
    expect(
      lines(
        { mounts: [{ mountPath: '/data', readOnly: true }] },
        { mounts: [{ mountPath: '/data' }] },
      ),
    ).toEqual(['mounts[mountPath=/data].readOnly: expected true, got nothing']);
  });

  it('names the differing field of an Ingress path, found by its path inside an unnamed rule', () => {
    const backend = (name: string) => ({ service: { name, port: { number: 80 } } });
    const ingress = {
      spec: {
        rules: [
          {
            http: {
              paths: [
                { path: '/', pathType: 'Prefix', backend: backend('web') },
                { path: '/api', pathType: 'Prefix', backend: backend('api') },
              ],
            },
          },
        ],
      },
    };
    expect(
      lines(
        {
          spec: {
            rules: [
              { http: { paths: [{ path: '/api', pathType: 'Exact', backend: backend('api') }] } },
            ],
          },
        },
        ingress,
      ),
    ).toEqual(['spec.rules[0].http.paths[path=/api].pathType: expected "Exact", got "Prefix"']);
  });

  it('finds Ingress rules by host and TLS entries by secret', () => {
    expect(
      lines(
        {
          rules: [
            { host: 'shop.example.com', http: { paths: [{ path: '/', pathType: 'Exact' }] } },
          ],
          tls: [{ secretName: 'shop-tls', hosts: ['shop.example.com'] }],
        },
        {
          rules: [
            { host: 'blog.example.com', http: { paths: [{ path: '/', pathType: 'Exact' }] } },
            { host: 'shop.example.com', http: { paths: [{ path: '/', pathType: 'Prefix' }] } },
          ],
          tls: [{ secretName: 'shop-tls', hosts: ['www.example.com'] }],
        },
      ),
    ).toEqual([
      'rules[host=shop.example.com].http.paths[path=/].pathType: expected "Exact", got "Prefix"',
      'tls[secretName=shop-tls].hosts: expected an element matching "shop.example.com", found none among 1',
    ]);
  });

  it('blames an element with nothing to identify it by position when one is clearly the closest', () => {
    const rules = [
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] },
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get'] },
    ];
    expect(
      lines(
        { rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'patch'] }] },
        { rules },
      ),
    ).toEqual(['rules[1].verbs: expected an element matching "patch", found none among 1']);
  });

  it('blames no element by position when none shares anything or two share as much', () => {
    // The API server's token volume is not the candidate's attempt at a config volume.
    expect(
      lines(
        { volumes: [{ configMap: { name: 'app' } }] },
        { volumes: [{ name: 'kube-api-access', projected: { sources: [] } }] },
      ),
    ).toEqual([
      'volumes: expected an element matching {"configMap":{"name":"app"}}, found none among 1',
    ]);
    expect(
      lines(
        { rules: [{ apiGroups: [''], verbs: ['delete'] }] },
        {
          rules: [
            { apiGroups: [''], verbs: ['get'] },
            { apiGroups: [''], verbs: ['list'] },
          ],
        },
      ),
    ).toEqual([
      'rules: expected an element matching {"apiGroups":[""],"verbs":["delete"]}, found none among 2',
    ]);
  });

  it('matches identities Kubernetes-aware', () => {
    expect(
      lines(
        { ports: [{ port: '80', targetPort: 8080 }] },
        { ports: [{ port: 80, targetPort: 80 }] },
      ),
    ).toEqual(['ports[port=80].targetPort: expected 8080, got 80']);
  });

  it('falls back to the element and the count when nothing shares an identity', () => {
    expect(
      lines(
        { spec: { template: { spec: { containers: [{ name: 'db', image: 'postgres' }] } } } },
        liveDeployment,
      ),
    ).toEqual([
      'spec.template.spec.containers: expected an element matching {"name":"db","image":"postgres"}, found none among 2',
    ]);
  });

  it('does not blame a namesake that another expected element already uses', () => {
    expect(
      lines(
        { c: [{ name: 'web' }, { name: 'web', image: 'x' }] },
        { c: [{ name: 'web', image: 'x' }] },
      ),
    ).toEqual(['c: expected an element matching {"name":"web","image":"x"}, found none among 1']);
  });

  it('prefers an unused namesake when blaming', () => {
    expect(
      lines(
        {
          c: [
            { name: 'web', image: 'a' },
            { name: 'web', image: 'b' },
          ],
        },
        {
          c: [
            { name: 'web', image: 'a' },
            { name: 'web', image: 'c' },
          ],
        },
      ),
    ).toEqual(['c[name=web].image: expected "b", got "c"']);
  });

  it('reports an absent or non-list value once', () => {
    expect(lines({ args: ['a'] }, {})).toEqual(['args: expected ["a"], got nothing']);
    expect(lines({ args: ['a'] }, { args: 'a' })).toEqual(['args: expected ["a"], got "a"']);
    expect(lines({ args: ['a'] }, { args: [] })).toEqual([
      'args: expected an element matching "a", found none among 0',
    ]);
  });

  it('lets an empty expected list match an absent one (the API server omits empty lists)', () => {
    expect(matchObject({ args: [] }, {})).toEqual([]);
    expect(matchObject({ args: [] }, { args: ['x'] })).toEqual([]);
  });
});

describe('matchObject: exact lists', () => {
  const exact = { lists: 'exact' } as const;

  it('needs the same length', () => {
    expect(
      lines({ command: ['sleep', '3600'] }, { command: ['sleep', '3600', 'x'] }, exact),
    ).toEqual([
      'command: expected ["sleep","3600"] (2 elements), got ["sleep","3600","x"] (3 elements)',
    ]);
    expect(lines({ command: ['sleep'] }, { command: [] }, exact)).toEqual([
      'command: expected ["sleep"] (1 element), got [] (0 elements)',
    ]);
  });

  it('compares element i with element i', () => {
    expect(
      matchObject({ command: ['sleep', '3600'] }, { command: ['sleep', '3600'] }, exact),
    ).toEqual([]);
    expect(lines({ command: ['sleep', '3600'] }, { command: ['3600', 'sleep'] }, exact)).toEqual([
      'command[0]: expected "sleep", got "3600"',
      'command[1]: expected "3600", got "sleep"',
    ]);
  });

  it('still treats the maps inside as partial, and applies to nested lists', () => {
    expect(
      lines(
        { containers: [{ name: 'web', args: ['a', 'b'] }] },
        { containers: [{ name: 'web', image: 'x', args: ['b', 'a'] }] },
        exact,
      ),
    ).toEqual([
      'containers[0].args[0]: expected "a", got "b"',
      'containers[0].args[1]: expected "b", got "a"',
    ]);
  });

  it('rejects injected extras that subset mode ignores', () => {
    const expected = { volumes: [{ name: 'data' }] };
    const actual = { volumes: [{ name: 'kube-api-access-x1' }, { name: 'data' }] };
    expect(matchObject(expected, actual)).toEqual([]);
    expect(matchObject(expected, actual, exact)).toHaveLength(1);
  });
});

describe('matchObject: operators', () => {
  it('$regex matches strings and numbers rendered as strings', () => {
    const image = { image: { $regex: '^nginx:1\\.27' } };
    expect(matchObject(image, { image: 'nginx:1.27.3' })).toEqual([]);
    expect(lines(image, { image: 'nginx:1.25' })).toEqual([
      'image: expected to match /^nginx:1\\.27/, got "nginx:1.25"',
    ]);
    expect(lines(image, {})).toEqual(['image: expected to match /^nginx:1\\.27/, got nothing']);
    expect(matchObject({ port: { $regex: '^80+$' } }, { port: 8000 })).toEqual([]);
    expect(lines({ ok: { $regex: 'true' } }, { ok: true })).toEqual([
      'ok: expected to match /true/, got true',
    ]);
    expect(lines({ x: { $regex: 'a' } }, { x: { a: 1 } })).toEqual([
      'x: expected to match /a/, got {"a":1}',
    ]);
  });

  it('$gte and $lte compare numbers, numeric strings and quantities', () => {
    expect(matchObject({ replicas: { $gte: 3 } }, { replicas: 3 })).toEqual([]);
    expect(lines({ replicas: { $gte: 3 } }, { replicas: 2 })).toEqual([
      'replicas: expected ≥ 3, got 2',
    ]);
    expect(lines({ replicas: { $lte: 3 } }, { replicas: '4' })).toEqual([
      'replicas: expected ≤ 3, got "4"',
    ]);
    const memory = { memory: { $gte: '1Gi', $lte: '2Gi' } };
    expect(matchObject(memory, { memory: '1024Mi' })).toEqual([]);
    expect(matchObject(memory, { memory: '1536Mi' })).toEqual([]);
    expect(lines(memory, { memory: '512Mi' })).toEqual(['memory: expected ≥ 1Gi, got "512Mi"']);
    expect(lines(memory, { memory: '3G' })).toEqual(['memory: expected ≤ 2Gi, got "3G"']);
    expect(matchObject({ cpu: { $gte: 0.25 } }, { cpu: '250m' })).toEqual([]);
    expect(lines({ cpu: { $lte: '100m' } }, { cpu: 0.2 })).toEqual([
      'cpu: expected ≤ 100m, got 0.2',
    ]);
  });

  it('$gte and $lte fail on what is not a number', () => {
    expect(lines({ replicas: { $gte: 1 } }, {})).toEqual(['replicas: expected ≥ 1, got nothing']);
    expect(lines({ replicas: { $lte: 1 } }, { replicas: 'many' })).toEqual([
      'replicas: expected ≤ 1, got "many"',
    ]);
    expect(lines({ replicas: { $lte: 1 } }, { replicas: true })).toEqual([
      'replicas: expected ≤ 1, got true',
    ]);
  });

  it('$in allows a set of scalars, compared Kubernetes-aware', () => {
    const policy = { restartPolicy: { $in: ['Always', 'OnFailure'] } };
    expect(matchObject(policy, { restartPolicy: 'OnFailure' })).toEqual([]);
    expect(lines(policy, { restartPolicy: 'Never' })).toEqual([
      'restartPolicy: expected one of ["Always","OnFailure"], got "Never"',
    ]);
    expect(lines(policy, {})).toEqual([
      'restartPolicy: expected one of ["Always","OnFailure"], got nothing',
    ]);
    expect(matchObject({ port: { $in: [80, 443] } }, { port: '443' })).toEqual([]);
    expect(matchObject({ cpu: { $in: ['500m', '1'] } }, { cpu: 0.5 })).toEqual([]);
    expect(matchObject({ node: { $in: [null, 'a'] } }, {})).toEqual([]);
    expect(lines({ flag: { $in: [true] } }, { flag: 'true' })).toEqual([
      'flag: expected one of [true], got "true"',
    ]);
  });

  it('$absent and $exists test presence; null counts as absent', () => {
    expect(matchObject({ spec: { nodeName: { $absent: true } } }, { spec: {} })).toEqual([]);
    expect(
      matchObject({ spec: { nodeName: { $absent: true } } }, { spec: { nodeName: null } }),
    ).toEqual([]);
    expect(matchObject({ spec: { nodeName: { $absent: true } } }, {})).toEqual([]);
    expect(
      lines({ annotations: { debug: { $absent: true } } }, { annotations: { debug: 'x' } }),
    ).toEqual(['annotations.debug: expected to be absent, got "x"']);
    expect(lines({ nodeName: { $absent: false } }, {})).toEqual([
      'nodeName: expected to be present, got nothing',
    ]);
    expect(matchObject({ nodeName: { $absent: false } }, { nodeName: '' })).toEqual([]);
    expect(matchObject({ nodeName: { $exists: true } }, { nodeName: 'n1' })).toEqual([]);
    expect(lines({ nodeName: { $exists: false } }, { nodeName: 'n1' })).toEqual([
      'nodeName: expected to be absent, got "n1"',
    ]);
  });

  it('requires every operator in a map, reporting each failure', () => {
    const replicas = { replicas: { $gte: 2, $lte: 4, $in: [2, 3] } };
    expect(matchObject(replicas, { replicas: 3 })).toEqual([]);
    expect(lines(replicas, { replicas: 4 })).toEqual(['replicas: expected one of [2,3], got 4']);
    expect(lines(replicas, { replicas: 5 })).toEqual([
      'replicas: expected ≤ 4, got 5',
      'replicas: expected one of [2,3], got 5',
    ]);
  });

  it('works at any depth, inside list elements and at the root', () => {
    const expected = {
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 'web',
                image: { $regex: '^nginx:1\\.27' },
                resources: {
                  limits: { memory: { $lte: '1Gi' } },
                  requests: { cpu: { $gte: '250m' } },
                },
              },
            ],
            nodeName: { $absent: true },
          },
        },
      },
    };
    expect(lines(expected, liveDeployment)).toEqual([
      'spec.template.spec.containers[name=web].image: expected to match /^nginx:1\\.27/, got "nginx:1.25"',
    ]);
    expect(matchObject({ $regex: '^a' }, 'abc')).toEqual([]);
    expect(lines({ $gte: 2 }, 1)).toEqual(['expected ≥ 2, got 1']);
  });

  it('lets operators stand for whole list elements', () => {
    expect(
      matchObject(
        { finalizers: [{ $regex: '^kubernetes' }] },
        { finalizers: ['kubernetes.io/pvc-protection'] },
      ),
    ).toEqual([]);
    expect(lines({ finalizers: [{ $regex: '^example' }] }, { finalizers: ['a', 'b'] })).toEqual([
      'finalizers: expected an element matching {"$regex":"^example"}, found none among 2',
    ]);
  });
});

describe('matchObject: a broken spec is the bank’s bug', () => {
  it('throws MatchSpecError naming the path and the unknown operator', () => {
    const error = specError(() => matchObject({ spec: { replicas: { $gt: 2 } } }, {}));
    expect(error.path).toBe('spec.replicas');
    expect(error.operator).toBe('$gt');
    expect(error.message).toContain('spec.replicas: unknown operator $gt');
  });

  it('throws whatever the live object holds, even where matching would not look', () => {
    // The containers list is empty, so no element would ever be compared with the spec.
    const error = specError(() =>
      matchObject({ containers: [{ name: 'web', image: { $regexp: 'x' } }] }, { containers: [] }),
    );
    expect(error.path).toBe('containers[0].image');
    expect(error.operator).toBe('$regexp');
  });

  it('throws on malformed operands', () => {
    expect(specError(() => matchObject({ a: { $regex: '(' } }, { a: 'x' })).operator).toBe(
      '$regex',
    );
    expect(specError(() => matchObject({ a: { $in: 'x' } }, { a: 'x' })).operator).toBe('$in');
  });
});

describe('validateMatchSpec', () => {
  it('accepts a valid spec', () => {
    expect(
      validateMatchSpec({
        spec: {
          replicas: { $gte: 1, $lte: '3' },
          containers: [{ image: { $regex: '^nginx' }, memory: { $gte: '1Gi' } }],
          policy: { $in: ['a', 1, true, null] },
          nodeName: { $absent: true },
          node: { $exists: true },
          plain: [1, 'two', null, { three: 3 }],
        },
      }),
    ).toEqual([]);
  });

  it('lists every problem with its path', () => {
    expect(
      validateMatchSpec({
        a: { $gt: 1 },
        b: [{ c: { $regex: '[' } }],
        d: { $regex: 5 },
        e: { $in: 'x' },
        f: { $in: ['ok', { no: 1 }] },
        g: { $gte: 'lots' },
        h: { $lte: true },
        i: { $absent: 'yes' },
        j: { $exists: 1 },
        k: { $regex: 'x', name: 'y' },
      }),
    ).toEqual([
      'a: unknown operator $gt (known: $regex, $gte, $lte, $in, $absent, $exists, $anyOf, $exact, $exactKeys)',
      expect.stringMatching(
        /^b\[0\]\.c: \$regex \/\[\/ is not a pattern the linear-time \(RE2\) engine accepts: /,
      ),
      'd: $regex needs a string pattern',
      'e: $in needs a list, got "x"',
      'f: $in[1] must be a scalar, got {"no":1}',
      'g: $gte needs a number or quantity, got "lots"',
      'h: $lte needs a number or quantity, got true',
      'i: $absent needs true or false, got "yes"',
      'j: $exists needs true or false, got 1',
      'k: mixes operators ($regex) with plain keys; put the operators on a field of their own',
    ]);
  });

  it('flags operator sets that nothing can satisfy', () => {
    expect(validateMatchSpec({ r: { $gte: 5, $lte: 3 } })).toEqual([
      'r: $gte is above $lte: nothing can match',
    ]);
    expect(validateMatchSpec({ m: { $gte: '1Gi', $lte: '1024Mi' } })).toEqual([]);
    expect(validateMatchSpec({ n: { $absent: true, $regex: 'x' } })).toEqual([
      'n: requires the value to be both absent and present',
    ]);
    expect(validateMatchSpec({ n: { $absent: true, $exists: true } })).toHaveLength(1);
  });

  it('names a problem at the root without a path', () => {
    expect(validateMatchSpec({ $nope: 1 })).toEqual([
      'unknown operator $nope (known: $regex, $gte, $lte, $in, $absent, $exists, $anyOf, $exact, $exactKeys)',
    ]);
  });
});

describe('$anyOf and $exact', () => {
  const policy = {
    spec: {
      podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['db'] }] },
      ingress: [
        { from: [{ podSelector: { matchLabels: { app: 'api' } } }], ports: [{ port: 5432 }] },
      ],
    },
  };

  it('passes when any alternative matches, and says how each one differs', () => {
    const either = {
      spec: {
        podSelector: {
          $anyOf: [
            { matchLabels: { app: 'db' } },
            { matchExpressions: [{ key: 'app', operator: 'In', values: ['db'] }] },
          ],
        },
      },
    };
    expect(matchObject(either, policy)).toEqual([]);
    const wrong = matchObject(
      {
        spec: {
          podSelector: {
            $anyOf: [{ matchLabels: { app: 'web' } }, { matchLabels: { tier: 'db' } }],
          },
        },
      },
      { spec: { podSelector: { matchLabels: { app: 'db' } } } },
    );
    expect(wrong.map(formatMismatch)).toEqual([
      'spec.podSelector: expected one of 2 alternatives, found none: (1) matchLabels.app: expected "web", got "db"; (2) matchLabels.tier: expected "db", got nothing',
    ]);
  });

  it('names the failing fields of each alternative on a large map, never dumping the map', () => {
    const metadata = {
      name: 'web',
      labels: { app: 'api' },
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': 'x'.repeat(5_000) },
      managedFields: Array.from({ length: 20 }, (_, i) => ({ manager: `m${i}`, fieldsV1: {} })),
    };
    const [line, ...rest] = lines(
      { metadata: { $anyOf: [{ labels: { app: 'web' } }, { annotations: { team: 'a' } }] } },
      { metadata },
    );
    expect(rest).toEqual([]);
    expect(line).toBe(
      'metadata: expected one of 2 alternatives, found none: (1) labels.app: expected "web", got "api"; (2) annotations.team: expected "a", got nothing',
    );
  });

  it('keeps a failing alternative short: its first differences, counted beyond, values cut', () => {
    const [line] = lines(
      {
        $anyOf: [{ a: 1, b: 2, c: 3, d: 4 }, { long: 'short' }, { list: { $exact: ['a'] } }],
      },
      { a: 0, b: 0, c: 0, d: 0, long: 'y'.repeat(1_000), list: Array(100).fill('z') },
    );
    expect(line).toMatch(
      /^expected one of 3 alternatives, found none: \(1\) a: expected 1, got 0; b: expected 2, got 0 \(and 2 more\); \(2\) long: expected "short", got "y+…; \(3\) list: expected \["a"\] \(1 element\), got \["z",.*…/,
    );
    expect(line.length).toBeLessThan(700);
  });

  it('bounds the whole message however many alternatives fail', () => {
    const alternatives = Array.from({ length: 30 }, (_, i) => ({ [`key${i}`]: 'v'.repeat(100) }));
    const [line] = lines({ m: { $anyOf: alternatives } }, { m: {} });
    expect(
      line.startsWith('m: expected one of 30 alternatives, found none: (1) key0: expected'),
    ).toBe(true);
    expect(line.endsWith('…')).toBe(true);
    expect(line.length).toBeLessThanOrEqual(700);
  });

  it('says how an alternative differs at its own place, with no path', () => {
    expect(
      lines({ phase: { $anyOf: ['Running', { $regex: '^Succ' }] } }, { phase: 'Failed' }),
    ).toEqual([
      'phase: expected one of 2 alternatives, found none: (1) expected "Running", got "Failed"; (2) expected to match /^Succ/, got "Failed"',
    ]);
  });

  it('matches one list exactly while the rest of the check stays any-order', () => {
    const exactFrom = {
      spec: { ingress: [{ from: { $exact: [{ podSelector: { matchLabels: { app: 'api' } } }] } }] },
    };
    expect(matchObject(exactFrom, policy)).toEqual([]);
    const twoPeers = {
      spec: {
        ingress: [
          {
            from: [{ podSelector: { matchLabels: { app: 'api' } } }, { namespaceSelector: {} }],
            ports: [{ port: 5432 }],
          },
        ],
      },
    };
    expect(matchObject(exactFrom, twoPeers).map(formatMismatch).join('\n')).toMatch(/from/);
  });

  it('lints alternatives and exact lists like any other spec', () => {
    expect(validateMatchSpec({ a: { $anyOf: [{ b: 1 }] } })).toEqual([
      'a: $anyOf needs a list of at least two alternatives, got [{"b":1}]',
    ]);
    expect(validateMatchSpec({ a: { $anyOf: [{ b: { $gt: 1 } }, { b: 2 }] } })).toEqual([
      expect.stringMatching(/^a\.\$anyOf\[0\]\.b: unknown operator \$gt/),
    ]);
    expect(validateMatchSpec({ a: { $exact: 'x' } })).toEqual(['a: $exact needs a list, got "x"']);
  });
});

describe('matchObject: $exactKeys', () => {
  const spec = { data: { $exactKeys: { LOG_LEVEL: 'debug', MODE: { $exists: true } } } };

  it('passes with exactly those keys, values matched as usual', () => {
    expect(matchObject(spec, { data: { LOG_LEVEL: 'debug', MODE: 'x' } })).toEqual([]);
  });

  it('names a few of many extra keys and counts the rest', () => {
    const data = Object.fromEntries(
      Array.from({ length: 200 }, (_, i) => [`K${String(i).padStart(3, '0')}`, '1']),
    );
    expect(lines({ data: { $exactKeys: {} } }, { data })).toEqual([
      'data: expected only the keys (none), got also K000, K001, K002, K003, K004, K005, K006, K007, K008, K009 and 190 more',
    ]);
  });

  it('names the keys beyond the expected ones', () => {
    expect(
      matchObject(spec, { data: { LOG_LEVEL: 'debug', MODE: 'x', EXTRA: '1', MORE: '2' } }).map(
        formatMismatch,
      ),
    ).toEqual(['data: expected only the keys LOG_LEVEL, MODE, got also EXTRA, MORE']);
  });

  it('a missing key or a wrong value is reported as for any map', () => {
    expect(matchObject(spec, { data: { LOG_LEVEL: 'info' } }).map(formatMismatch)).toEqual([
      'data.LOG_LEVEL: expected "debug", got "info"',
      'data.MODE: expected to be present, got nothing',
    ]);
  });

  it('needs a map', () => {
    expect(validateMatchSpec({ data: { $exactKeys: ['a'] } })).toEqual([
      'data: $exactKeys needs a map, got ["a"]',
    ]);
  });
});
