import { describe, expect, it } from '@jest/globals';
import {
  CelError,
  checkCelSyntax,
  compileCel,
  evaluateCel,
  evaluateRule,
  toLibraryDialect,
} from './cel.js';

// As the API server returns them: parsed from JSON, so every number is a JS number.
const deployment = JSON.parse(`{
  "apiVersion": "apps/v1",
  "kind": "Deployment",
  "metadata": { "name": "web", "namespace": "team-a", "labels": { "app": "web", "tier": "frontend" } },
  "spec": {
    "replicas": 3,
    "selector": { "matchLabels": { "app": "web" } },
    "template": {
      "metadata": { "labels": { "app": "web" } },
      "spec": {
        "containers": [
          {
            "name": "nginx",
            "image": "nginx:1.27",
            "ports": [{ "containerPort": 80, "protocol": "TCP" }],
            "resources": { "limits": { "cpu": "500m", "memory": "256Mi" } }
          },
          { "name": "log-shipper", "image": "nginx-log-shipper:2.1" }
        ]
      }
    },
    "strategy": { "type": "RollingUpdate", "rollingUpdate": { "maxSurge": "25%", "maxUnavailable": 0 } }
  },
  "status": { "replicas": 3, "readyReplicas": 2, "availableReplicas": 2 }
}`) as Record<string, unknown>;

const pod = (name: string, phase: string, restarts: number, ready: boolean) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'team-a', labels: { app: 'web' } },
  spec: { nodeName: 'worker-1', containers: [{ name: 'nginx', image: 'nginx:1.27' }] },
  status: {
    phase,
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    containerStatuses: [{ name: 'nginx', ready, restartCount: restarts }],
  },
});

const pods = JSON.parse(
  JSON.stringify([
    pod('web-7d4b9-abcde', 'Running', 0, true),
    pod('web-7d4b9-fghij', 'Running', 2, true),
    pod('web-7d4b9-klmno', 'Pending', 0, false),
  ]),
) as unknown[];

const bindings = { object: deployment, pods, vars: { ns: 'team-a', replicas: 3 } };

function celError(run: () => unknown): CelError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CelError);
    return error as CelError;
  }
  throw new Error('expected a CelError');
}

describe('evaluateCel', () => {
  it('turns whole JSON numbers into CEL ints and keeps fractions as doubles', () => {
    expect(evaluateCel('object.spec.replicas == 3', bindings)).toBe(true);
    expect(evaluateCel('type(object.spec.replicas) == int', bindings)).toBe(true);
    expect(evaluateCel('object.spec.replicas == vars.replicas', bindings)).toBe(true);
    expect(evaluateCel('size(object.spec.template.spec.containers) == 2', bindings)).toBe(true);
    expect(evaluateCel('1.5 > 1', bindings)).toBe(true);
    expect(evaluateCel('type(ratio) == double && ratio * 2.0 == 3.0', { ratio: 1.5 })).toBe(true);
    expect(evaluateCel('object.status.replicas - object.status.readyReplicas', bindings)).toBe(1);
  });

  it('returns JSON-like values: numbers for ints, plain objects and lists', () => {
    expect(
      evaluateCel('pods.map(p, p.status.containerStatuses[0].restartCount)', bindings),
    ).toEqual([0, 2, 0]);
    expect(evaluateCel('{"ready": object.status.readyReplicas, "ratio": 0.5}', bindings)).toEqual({
      ready: 2,
      ratio: 0.5,
    });
    expect(evaluateCel('9223372036854775807', {})).toBe('9223372036854775807');
    expect(evaluateCel('timestamp("2025-01-02T03:04:05Z")', {})).toBe('2025-01-02T03:04:05.000Z');
    expect(evaluateCel('duration("90s")', {})).toBe('90s');
    expect(evaluateCel('type(object.spec.replicas)', bindings)).toBe('int');
    expect(evaluateCel('object.spec.?paused', bindings)).toBeNull();
  });

  it('supports the list macros', () => {
    expect(
      evaluateCel(
        'object.spec.template.spec.containers.all(c, c.image.startsWith("nginx"))',
        bindings,
      ),
    ).toBe(true);
    expect(
      evaluateCel(
        'object.spec.template.spec.containers.exists(c, c.ports.exists(p, p.containerPort == 80))',
        bindings,
      ),
    ).toBe(true); // log-shipper has no ports, but as in CEL a true element outweighs an error
    expect(
      evaluateCel(
        'object.spec.template.spec.containers.exists(c, has(c.ports) && c.ports.exists(p, p.containerPort == 80))',
        bindings,
      ),
    ).toBe(true);
    expect(
      evaluateCel('pods.filter(p, p.status.phase == "Running").map(p, p.metadata.name)', bindings),
    ).toEqual(['web-7d4b9-abcde', 'web-7d4b9-fghij']);
    expect(evaluateCel('pods.exists_one(p, p.status.phase == "Pending")', bindings)).toBe(true);
    expect(evaluateCel('size(pods.filter(p, p.status.phase == "Running")) == 2', bindings)).toBe(
      true,
    );
  });

  it('tests presence with has() and optional chaining', () => {
    expect(evaluateCel('has(object.spec.strategy.rollingUpdate)', bindings)).toBe(true);
    expect(evaluateCel('has(object.spec.paused)', bindings)).toBe(false);
    expect(evaluateCel('"tier" in object.metadata.labels', bindings)).toBe(true);
    expect(evaluateCel('object.spec.?paused.orValue(false)', bindings)).toBe(false);
  });

  it('passes variables in as a map, never pasted into the source', () => {
    expect(evaluateCel('object.metadata.namespace == vars.ns', bindings)).toBe(true);
    expect(evaluateCel('vars.ns', { vars: { ns: '" || true || "' } })).toBe('" || true || "');
  });

  it('evaluates VAP-style variables when given', () => {
    const variables = [
      { name: 'containers', expression: 'object.spec.template.spec.containers' },
      { name: 'names', expression: 'variables.containers.map(c, c.name)' },
    ];
    expect(evaluateCel('variables.names', bindings, variables)).toEqual(['nginx', 'log-shipper']);
  });

  it('reports a missing field as a one-line evaluation error', () => {
    const error = celError(() => evaluateCel('object.spec.foo.bar == 1', bindings));
    expect(error.kind).toBe('evaluate');
    expect(error.expression).toBe('object.spec.foo.bar == 1');
    expect(error.message).toBe('no such key: foo (in object.spec.foo)');
    expect(error.message).not.toContain('\n');
  });

  it('names the failing element inside a macro and out-of-range indexes', () => {
    expect(
      celError(() =>
        evaluateCel(
          'object.spec.template.spec.containers.all(c, c.ports[0].containerPort == 80)',
          bindings,
        ),
      ).message,
    ).toBe('no such key: ports (in c.ports)');
    expect(celError(() => evaluateCel('pods[5].metadata.name', bindings)).message).toBe(
      'index out of bounds, index 5 >= size 3 (in pods[5])',
    );
    expect(celError(() => evaluateCel('items[0]', { items: [] })).message).toBe(
      'index out of bounds, index 0 >= size 0 (in items[0])',
    );
  });

  it('reports type errors met at evaluation', () => {
    const error = celError(() => evaluateCel('object.metadata.name + 1', bindings));
    expect(error.kind).toBe('evaluate');
    expect(error.message).toBe('no such overload: string + int (in object.metadata.name + 1)');
    expect(celError(() => evaluateCel('missing == 1', bindings)).message).toBe(
      'unknown variable: missing (in missing)',
    );
  });
});

describe('compileCel', () => {
  it('rejects bad syntax with the position, not a stack trace', () => {
    const error = celError(() => compileCel('object.spec.replicas == '));
    expect(error.kind).toBe('compile');
    expect(error.message).toBe('unexpected token: EOF at column 25');
    expect(celError(() => compileCel('object.spec.(replicas)')).message).toBe(
      'expected IDENTIFIER, got LPAREN at column 13',
    );
    expect(celError(() => compileCel('has(object.spec)\n  && object.spec.]')).message).toBe(
      'expected IDENTIFIER, got RBRACKET at line 2, column 18',
    );
  });

  it('rejects unknown functions and statically wrong operand types', () => {
    expect(celError(() => compileCel('url(object.spec.link) != null')).message).toBe(
      "found no matching overload for 'url(dyn)' (in url(object.spec.link))",
    );
    // A Quantity compares through its methods, not with operators.
    expect(celError(() => compileCel('quantity(object.spec.memory) > 1')).message).toBe(
      'no such overload: Quantity > int (in quantity(object.spec.memory) > 1)',
    );
    const error = celError(() => compileCel('"a" + 1'));
    expect(error.kind).toBe('compile');
    expect(error.message).toBe('no such overload: string + int (in "a" + 1)');
  });

  it('caches programs by source', () => {
    expect(compileCel('object.spec.replicas > 1')).toBe(compileCel('object.spec.replicas > 1'));
    expect(compileCel('object.spec.replicas > 1').evaluate(bindings)).toBe(true);
  });
});

describe('checkCelSyntax', () => {
  const known = ['object', 'pods', 'vars', 'variables'];

  it('accepts valid expressions over known names, including macro variables', () => {
    expect(checkCelSyntax('pods.all(p, p.status.phase == "Running")', known)).toBeUndefined();
    expect(checkCelSyntax('variables.x == vars.replicas', known)).toBeUndefined();
    expect(checkCelSyntax('cel.bind(n, size(pods), n > 0)', known)).toBeUndefined();
  });

  it('reports an unknown top-level name with the known ones', () => {
    expect(checkCelSyntax('objct.spec.replicas == 3', known)).toBe(
      'unknown variable: objct (known: object, pods, vars, variables)',
    );
    expect(checkCelSyntax('x > 1', [])).toBe('unknown variable: x (known: none)');
  });

  it('reports syntax and type problems', () => {
    expect(checkCelSyntax('pods.all(p, p.status.phase ==)', known)).toBe(
      'unexpected token: RPAREN at column 30',
    );
    expect(checkCelSyntax('size(pods) == "3"', known)).toBe(
      'no such overload: int == string (in size(pods) == "3")',
    );
  });
});

describe('evaluateRule', () => {
  it('passes when the expression is true', () => {
    expect(evaluateRule({ expression: 'object.spec.replicas == vars.replicas' }, bindings)).toEqual(
      { passed: true },
    );
  });

  it('chains variables, each seeing the ones before it', () => {
    const rule = {
      variables: [
        { name: 'running', expression: 'pods.filter(p, p.status.phase == "Running")' },
        {
          name: 'restarts',
          expression: 'variables.running.map(p, p.status.containerStatuses[0].restartCount)',
        },
        { name: 'flaky', expression: 'variables.restarts.exists(r, r > 0)' },
      ],
      expression: 'size(variables.running) >= 2 && !variables.flaky',
      messageExpression:
        '"expected no restarts, found " + string(variables.restarts.filter(r, r > 0).size()) + " restarted pod(s)"',
    };
    expect(evaluateRule(rule, bindings)).toEqual({
      passed: false,
      message: 'expected no restarts, found 1 restarted pod(s)',
    });
  });

  it('renders messageExpression with string(int)', () => {
    const rule = {
      expression: 'object.status.readyReplicas == object.spec.replicas',
      messageExpression:
        '"Deployment " + object.metadata.name + ": " + string(object.status.readyReplicas) + " of " + string(object.spec.replicas) + " replicas ready"',
      message: 'not all replicas are ready',
    };
    expect(evaluateRule(rule, bindings)).toEqual({
      passed: false,
      message: 'Deployment web: 2 of 3 replicas ready',
    });
  });

  it('falls back to message, then to the expression, when messageExpression fails', () => {
    const failing = {
      expression: 'object.spec.replicas == 5',
      messageExpression: '"replicas: " + object.spec.replicas',
      message: 'expected 5 replicas',
    };
    expect(evaluateRule(failing, bindings)).toEqual({
      passed: false,
      message: 'expected 5 replicas',
      messageExpressionError:
        'no such overload: string + int (in "replicas: " + object.spec.replicas)',
    });
    expect(evaluateRule({ ...failing, message: undefined }, bindings).message).toBe(
      'failed: object.spec.replicas == 5',
    );
    expect(
      evaluateRule({ expression: 'false', messageExpression: 'object.spec.replicas' }, bindings),
    ).toMatchObject({
      message: 'failed: false',
      messageExpressionError: 'messageExpression must evaluate to a string, got int',
    });
  });

  it('evaluates a variable only when used, so has() can guard it', () => {
    const rule = {
      variables: [{ name: 'paused', expression: 'object.spec.paused' }],
      expression: '!has(object.spec.paused) || !variables.paused',
    };
    expect(evaluateRule(rule, bindings)).toEqual({ passed: true });
  });

  it('names the variable whose evaluation failed', () => {
    const rule = {
      variables: [
        { name: 'first', expression: 'object.spec.template.spec.containers[0]' },
        { name: 'port', expression: 'variables.first.ports[0].containerPort + object.spec.nope' },
      ],
      expression: 'variables.port == 80',
    };
    const error = celError(() => evaluateRule(rule, bindings));
    expect(error.kind).toBe('evaluate');
    expect(error.message).toBe('variables.port: no such key: nope (in object.spec.nope)');
  });

  it('does not let a variable see later ones', () => {
    const rule = {
      variables: [
        { name: 'a', expression: 'variables.b' },
        { name: 'b', expression: '1' },
      ],
      expression: 'variables.a == 1',
    };
    expect(celError(() => evaluateRule(rule, bindings)).message).toBe(
      'variables.a: no such key: b (in variables.b)',
    );
  });

  it('rejects a non-bool result, saying which type it got', () => {
    const error = celError(() => evaluateRule({ expression: 'object.spec.replicas' }, bindings));
    expect(error.kind).toBe('evaluate');
    expect(error.message).toBe('expression must evaluate to a bool, got int');
    expect(
      celError(() => evaluateRule({ expression: 'object.metadata.labels' }, bindings)).message,
    ).toBe('expression must evaluate to a bool, got map');
  });

  it('reports a missing field as an error, not as a failed rule', () => {
    const error = celError(() =>
      evaluateRule(
        { expression: 'object.spec.template.spec.nodeSelector["disk"] == "ssd"' },
        bindings,
      ),
    );
    expect(error.kind).toBe('evaluate');
    expect(error.message).toBe(
      'no such key: nodeSelector (in object.spec.template.spec.nodeSelector)',
    );
  });

  it('reports compile errors in the rule and its variables', () => {
    expect(celError(() => evaluateRule({ expression: 'object.spec.(' }, bindings)).kind).toBe(
      'compile',
    );
    const error = celError(() =>
      evaluateRule(
        { variables: [{ name: 'x', expression: 'object.spec.replicas +' }], expression: 'true' },
        bindings,
      ),
    );
    expect(error.kind).toBe('compile');
    expect(error.message).toBe('variables.x: unexpected token: EOF at column 23');
  });
});

describe('Kubernetes quantities in CEL', () => {
  const pod = (name: string, memory: string) => ({
    metadata: { name },
    spec: { containers: [{ resources: { requests: { memory } } }] },
  });

  it('compares quantities by value, not as strings', () => {
    expect(evaluateCel('quantity("1Gi").isGreaterThan(quantity("512Mi"))', {})).toBe(true);
    expect(evaluateCel('quantity("1Gi").compareTo(quantity("1024Mi"))', {})).toBe(0);
    expect(evaluateCel('quantity("250m").isLessThan(quantity("0.5"))', {})).toBe(true);
    expect(evaluateCel('quantity("500m").asApproximateFloat()', {})).toBe(0.5);
    expect(evaluateCel('[isQuantity("2Gi"), isQuantity("lots")]', {})).toEqual([true, false]);
  });

  it('finds the pod requesting the most memory across units', () => {
    const pods = [pod('small', '512Mi'), pod('big', '1Gi'), pod('mid', '900M')];
    const mem = 'quantity(p.spec.containers[0].resources.requests.memory)';
    expect(
      evaluateCel(
        `pods.filter(p, pods.all(o, !quantity(o.spec.containers[0].resources.requests.memory).isGreaterThan(${mem})))[0].metadata.name`,
        { pods },
      ),
    ).toBe('big');
  });

  it('lints quantity calls and fails readably on a bad quantity', () => {
    expect(checkCelSyntax('quantity(x).isGreaterThan(quantity("1Gi"))', ['x'])).toBeUndefined();
    expect(() => evaluateCel('quantity("bogus")', {})).toThrow(
      /"bogus" is not a Kubernetes quantity/,
    );
  });
});

describe('matches() on RE2', () => {
  it('answers a catastrophic pattern on a long field value at once (a backtracking engine would not return)', () => {
    const value = `${'a'.repeat(20_000)}b`;
    const started = performance.now();
    expect(evaluateCel("v.matches('^(a+)+$')", { v: value })).toBe(false);
    expect(evaluateCel("v.matches('^(a|aa)*b$')", { v: value })).toBe(true);
    // Generous: RE2 takes milliseconds; backtracking would take longer than the universe has.
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('leaves string literals alone, and names matches() in errors', () => {
    expect(evaluateCel("'x.matches(y)' + v", { v: '!' })).toBe('x.matches(y)!');
    expect(toLibraryDialect(`a.matches('b') && "c.matches(" == r'.matches('`)).toBe(
      `a.re2find('b') && "c.matches(" == r'.matches('`,
    );
    expect(() => evaluateCel("v.matches('(?=x)')", { v: 'x' })).toThrow(
      /is not a pattern the linear-time \(RE2\) engine accepts/,
    );
    expect(() => compileCel('1.matches("a")')).toThrow(/matches/);
    expect(() => compileCel('1.matches("a")')).not.toThrow(/re2find/);
  });
});

describe('Kubernetes CEL forms the library lacks', () => {
  it('base64.decode and base64.encode, as a Secret check writes them', () => {
    const secret = { data: { password: Buffer.from('s3cret').toString('base64') } };
    expect(evaluateCel("string(base64.decode(secret.data.password)) == 's3cret'", { secret })).toBe(
      true,
    );
    expect(evaluateCel("base64.decode(secret.data.password) == b's3cret'", { secret })).toBe(true);
    expect(evaluateCel("base64.encode(bytes('hi'))", {})).toBe('aGk=');
    expect(() => evaluateCel("base64.decode('not base64!')", {})).toThrow(
      /base64\.decode: "not base64!" is not base64/,
    );
    // Names inside strings and other names are left alone.
    expect(toLibraryDialect(`"base64.encode(" + mybase64.encode(x)`)).toBe(
      `"base64.encode(" + mybase64.encode(x)`,
    );
  });

  it('has() on a field of an indexed or called operand, as Kubernetes accepts it', () => {
    const pod = { spec: { containers: [{ name: 'c', resources: { limits: { cpu: '1' } } }] } };
    expect(evaluateCel('has(pod.spec.containers[0].resources)', { pod })).toBe(true);
    expect(evaluateCel('has(pod.spec.containers[0].securityContext)', { pod })).toBe(false);
    expect(
      evaluateCel('pod.spec.containers.all(c, has(c.resources) && has(c.resources.limits))', {
        pod,
      }),
    ).toBe(true);
    expect(
      evaluateCel(
        "has(pod.spec.containers[0].resources.limits) && has(pod.spec['containers'][0].name)",
        { pod },
      ),
    ).toBe(true);
    // Plain has() is untouched; an index out of range is still an error, as in Kubernetes.
    expect(toLibraryDialect('has(a.b)')).toBe('has(a.b)');
    expect(toLibraryDialect('has(a[0].b)')).toBe('(a[0].?b).hasValue()');
    expect(() => evaluateCel('has(pod.spec.containers[3].name)', { pod })).toThrow();
  });
});
