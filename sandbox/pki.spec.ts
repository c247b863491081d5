import { X509Certificate, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { generatePki } from './pki.js';

describe('generatePki', () => {
  let pki: Awaited<ReturnType<typeof generatePki>>;

  beforeAll(async () => {
    pki = await generatePki({
      admin: { user: 'kubernetes-admin', groups: ['system:masters'] },
      scheduler: { user: 'system:kube-scheduler' },
      odd: { user: 'a,b=c', groups: ['g1', 'g2'] },
    });
  });

  it('issues a CA that signs the serving and client certificates', () => {
    const ca = new X509Certificate(pki.ca.cert);
    expect(ca.ca).toBe(true);
    for (const pem of [pki.apiserver.cert, ...Object.values(pki.clients).map((c) => c.cert)]) {
      const cert = new X509Certificate(pem);
      expect(cert.ca).toBe(false);
      expect(cert.checkIssued(ca)).toBe(true);
      expect(cert.verify(ca.publicKey)).toBe(true);
    }
  });

  it('serves 127.0.0.1, localhost and the in-cluster names of the API server', () => {
    const serving = new X509Certificate(pki.apiserver.cert);
    expect(serving.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(serving.checkIP('10.96.0.1')).toBe('10.96.0.1');
    expect(serving.checkHost('localhost')).toBe('localhost');
    expect(serving.checkHost('kubernetes.default.svc.cluster.local')).toBe(
      'kubernetes.default.svc.cluster.local',
    );
    expect(serving.checkHost('example.com')).toBeUndefined();
    expect(serving.keyUsage).toContain('1.3.6.1.5.5.7.3.1');
  });

  it('puts the user in CN and the groups in O, escaping DN specials', () => {
    expect(new X509Certificate(pki.clients.admin.cert).subject).toBe(
      'CN=kubernetes-admin\nO=system:masters',
    );
    expect(new X509Certificate(pki.clients.scheduler.cert).subject).toBe(
      'CN=system:kube-scheduler',
    );
    const odd = new X509Certificate(pki.clients.odd.cert);
    expect(odd.subject).toContain('O=g1');
    expect(odd.subject).toContain('O=g2');
    expect(odd.subject).toMatch(/CN=a\\?,b\\?=c/);
    expect(odd.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
  });

  it('pairs each private key with its certificate, and the service-account keys with each other', () => {
    const data = Buffer.from('token payload');
    for (const pair of [pki.ca, pki.apiserver, pki.clients.admin]) {
      const signature = sign('sha256', data, createPrivateKey(pair.key));
      expect(verify('sha256', data, new X509Certificate(pair.cert).publicKey, signature)).toBe(
        true,
      );
    }
    const saSignature = sign('sha256', data, createPrivateKey(pki.serviceAccount.privateKey));
    expect(verify('sha256', data, createPublicKey(pki.serviceAccount.publicKey), saSignature)).toBe(
      true,
    );
    expect(
      verify(
        'sha256',
        Buffer.from('tampered'),
        createPublicKey(pki.serviceAccount.publicKey),
        saSignature,
      ),
    ).toBe(false);
  });

  it('generates distinct keys and serials on every run', async () => {
    const again = await generatePki({ admin: { user: 'kubernetes-admin' } });
    expect(again.ca.key).not.toBe(pki.ca.key);
    expect(new X509Certificate(again.ca.cert).serialNumber).not.toBe(
      new X509Certificate(pki.ca.cert).serialNumber,
    );
  });
});
