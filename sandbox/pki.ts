import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

// @peculiar/x509 resolves its crypto provider through tsyringe, which needs reflect-metadata.
x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const EC_KEY: EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGNING: EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };
const VALIDITY_MS = 30 * 24 * 60 * 60 * 1000;
/** Clocks of the components are the same host clock, but allow for rounding. */
const BACKDATE_MS = 60 * 60 * 1000;

/** PEM-encoded certificate and PKCS#8 private key. */
export interface KeyPairPem {
  cert: string;
  key: string;
}

/** A client identity as Kubernetes sees it: CN is the user, O the groups. */
export interface ClientIdentity {
  user: string;
  groups?: string[];
}

export interface SandboxPki {
  ca: KeyPairPem;
  apiserver: KeyPairPem;
  /** Service-account token signing pair (the apiserver signs, everyone verifies). */
  serviceAccount: { publicKey: string; privateKey: string };
  clients: Record<string, KeyPairPem>;
}

/**
 * Generates a fresh PKI for one sandbox run: a CA (also the cluster signing CA
 * for CSRs), a serving certificate for 127.0.0.1/localhost and the in-cluster
 * service names, the service-account key pair, and one client certificate per
 * named identity. ECDSA P-256 keeps generation in the milliseconds.
 */
export async function generatePki(clients: Record<string, ClientIdentity>): Promise<SandboxPki> {
  const caKeys = await generateKeys();
  const notBefore = new Date(Date.now() - BACKDATE_MS);
  const notAfter = new Date(Date.now() + VALIDITY_MS);
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'CN=cka-sandbox-ca',
    notBefore,
    notAfter,
    signingAlgorithm: SIGNING,
    keys: caKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign |
          x509.KeyUsageFlags.cRLSign |
          x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });

  const issue = async (
    subject: string,
    usage: x509.ExtendedKeyUsage,
    altNames?: x509.JsonGeneralNames,
  ): Promise<KeyPairPem> => {
    const keys = await generateKeys();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject,
      issuer: caCert.subject,
      notBefore,
      notAfter,
      signingAlgorithm: SIGNING,
      publicKey: keys.publicKey,
      signingKey: caKeys.privateKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([usage]),
        await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
        ...(altNames ? [new x509.SubjectAlternativeNameExtension(altNames)] : []),
      ],
    });
    return { cert: cert.toString('pem'), key: await privateKeyPem(keys.privateKey) };
  };

  const apiserver = await issue('CN=kube-apiserver', x509.ExtendedKeyUsage.serverAuth, [
    { type: 'ip', value: '127.0.0.1' },
    { type: 'ip', value: '10.96.0.1' },
    { type: 'dns', value: 'localhost' },
    { type: 'dns', value: 'kubernetes' },
    { type: 'dns', value: 'kubernetes.default' },
    { type: 'dns', value: 'kubernetes.default.svc' },
    { type: 'dns', value: 'kubernetes.default.svc.cluster.local' },
  ]);

  const clientPems: Record<string, KeyPairPem> = {};
  for (const [name, identity] of Object.entries(clients)) {
    clientPems[name] = await issue(subjectOf(identity), x509.ExtendedKeyUsage.clientAuth);
  }

  const saKeys = await generateKeys();
  return {
    ca: { cert: caCert.toString('pem'), key: await privateKeyPem(caKeys.privateKey) },
    apiserver,
    serviceAccount: {
      publicKey: pem('PUBLIC KEY', await webcrypto.subtle.exportKey('spki', saKeys.publicKey)),
      privateKey: await privateKeyPem(saKeys.privateKey),
    },
    clients: clientPems,
  };
}

function subjectOf(identity: ClientIdentity): string {
  // DN values are escaped per RFC 4514 so names like "system:kube-scheduler" survive.
  const escape = (value: string) => value.replace(/([,+"\\<>;=])/g, '\\$1');
  const parts = [`CN=${escape(identity.user)}`];
  for (const group of identity.groups ?? []) parts.push(`O=${escape(group)}`);
  return parts.join(', ');
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  return pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', key));
}

function pem(label: string, der: ArrayBuffer): string {
  const body = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .trimEnd();
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

function serial(): string {
  // Positive 16-byte serial: clear the top bit so DER does not read it as negative.
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] &= 0x7f;
  return Buffer.from(bytes).toString('hex');
}
