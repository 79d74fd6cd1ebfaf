/**
 * Certificates made at test time (nothing private is committed): a CA and
 * leaf certificates it signs, RSA keys from node's crypto, signed with
 * node-forge so the tests need no openssl binary.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

export interface KeyPair {
  readonly cert: string;
  readonly key: string;
}
export interface Ca extends KeyPair {
  readonly forgeCert: forge.pki.Certificate;
  readonly forgeKey: forge.pki.rsa.PrivateKey;
}

function rsa(): { pub: forge.pki.rsa.PublicKey; priv: forge.pki.rsa.PrivateKey; pem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const priv = forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey;
  return { priv, pub: forge.pki.setRsaPublicKey(priv.n, priv.e), pem };
}

function base(cn: string, pub: forge.pki.PublicKey): forge.pki.Certificate {
  const c = forge.pki.createCertificate();
  c.publicKey = pub;
  c.serialNumber = `01${randomBytes(8).toString('hex')}`;
  c.validity.notBefore = new Date(Date.now() - 60_000);
  c.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
  c.setSubject([{ name: 'commonName', value: cn }]);
  return c;
}

export function makeCa(cn = 'ngate test CA'): Ca {
  const k = rsa();
  const c = base(cn, k.pub);
  c.setIssuer(c.subject.attributes);
  c.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
  ]);
  c.sign(k.priv, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(c), key: k.pem, forgeCert: c, forgeKey: k.priv };
}

/** A leaf signed by `ca` for DNS names and IP addresses (server), or a client certificate. */
export function issue(ca: Ca, cn: string, opts: { dns?: string[]; ips?: string[]; client?: boolean } = {}): KeyPair {
  const k = rsa();
  const c = base(cn, k.pub);
  c.setIssuer(ca.forgeCert.subject.attributes);
  const altNames = [...(opts.dns ?? []).map((value) => ({ type: 2, value })), ...(opts.ips ?? []).map((ip) => ({ type: 7, ip }))];
  c.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: opts.client !== true, clientAuth: opts.client === true },
    ...(altNames.length > 0 ? [{ name: 'subjectAltName', altNames }] : []),
  ]);
  c.sign(ca.forgeKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(c), key: k.pem };
}
