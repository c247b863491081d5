import { jest } from '@jest/globals';
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { AuthenticationV1Api, CertificatesV1Api, KubeConfig } from '@kubernetes/client-node';
import { adminKubeConfig, ignoreNotFound, kubectl } from '../../support/cluster.js';
import { eventually } from '../../support/eventually.js';
import { readVersions } from '../../../sandbox/versions.js';

jest.setTimeout(60_000);

describe('the built kubectl with the admin kubeconfig', () => {
  it('reports matching client and server versions from the go.mod', async () => {
    const { stdout } = await kubectl(['version', '-o', 'json']);
    const version = JSON.parse(stdout) as {
      clientVersion: { gitVersion: string };
      serverVersion: { gitVersion: string };
    };
    const expected = readVersions().kubernetes;
    expect(version.clientVersion.gitVersion).toBe(expected);
    expect(version.serverVersion.gitVersion).toBe(expected);
  });

  it('runs get nodes', async () => {
    const { stdout } = await kubectl(['get', 'nodes', '--no-headers', '-l', '!cka-test/pool']);
    const rows = stdout
      .trim()
      .split('\n')
      .map((line) => line.split(/\s+/));
    expect(rows.map(([name, status, roles]) => [name, status, roles])).toEqual([
      ['controlplane', 'Ready', 'control-plane'],
      ['node01', 'Ready', '<none>'],
      ['node02', 'Ready', '<none>'],
    ]);
  });

  it('runs auth can-i, for the admin and impersonating a ServiceAccount', async () => {
    expect((await kubectl(['auth', 'can-i', '*', '*', '--all-namespaces'])).stdout.trim()).toBe(
      'yes',
    );
    const denied = kubectl([
      'auth',
      'can-i',
      'create',
      'deployments',
      '-n',
      'default',
      '--as=system:serviceaccount:default:default',
    ]);
    // kubectl exits 1 and prints "no" when the answer is no.
    await expect(denied).rejects.toMatchObject({ code: 1, stdout: 'no\n' });
  });
});

describe('certificate signing requests', () => {
  const name = `jane-${Math.random().toString(36).slice(2, 8)}`;
  const certificates = adminKubeConfig().makeApiClient(CertificatesV1Api);
  afterAll(() => certificates.deleteCertificateSigningRequest({ name }).catch(ignoreNotFound));

  it('kubectl certificate approve gets a client certificate signed that authenticates the user', async () => {
    x509.cryptoProvider.set(webcrypto as unknown as Crypto);
    const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
    const keys = (await webcrypto.subtle.generateKey(algorithm, true, [
      'sign',
      'verify',
    ])) as CryptoKeyPair;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: `CN=${name}, O=developers`,
      keys,
      signingAlgorithm: algorithm,
    });
    await certificates.createCertificateSigningRequest({
      body: {
        metadata: { name },
        spec: {
          request: Buffer.from(csr.toString('pem')).toString('base64'),
          signerName: 'kubernetes.io/kube-apiserver-client',
          usages: ['client auth'],
          expirationSeconds: 3600,
        },
      },
    });

    await kubectl(['certificate', 'approve', name]);
    const signed = await eventually(
      `CSR ${name} to be issued by the controller-manager's signer`,
      () => certificates.readCertificateSigningRequest({ name }),
      (c) => Boolean(c.status?.certificate),
    );
    expect(signed.status?.conditions?.map((c) => c.type)).toContain('Approved');

    const keyPem = `-----BEGIN PRIVATE KEY-----\n${Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64')}\n-----END PRIVATE KEY-----\n`;
    const cluster = adminKubeConfig().getCurrentCluster()!;
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [cluster],
      users: [
        {
          name,
          certData: signed.status!.certificate,
          keyData: Buffer.from(keyPem).toString('base64'),
        },
      ],
      contexts: [{ name, cluster: cluster.name, user: name }],
      currentContext: name,
    });
    const review = await kc
      .makeApiClient(AuthenticationV1Api)
      .createSelfSubjectReview({ body: {} });
    expect(review.status?.userInfo?.username).toBe(name);
    expect(review.status?.userInfo?.groups).toContain('developers');

    // The same credential works for kubectl, as a candidate would use it.
    const path = join(tmpdir(), `${name}.kubeconfig`);
    await writeFile(path, kc.exportConfig(), { mode: 0o600 });
    const denied = kubectl(['get', 'pods', '-n', 'default'], path);
    await expect(denied).rejects.toMatchObject({ stderr: expect.stringContaining('Forbidden') });
  });
});
