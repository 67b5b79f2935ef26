// Issuing a certificate for a CertificateSigningRequest with the cluster CA, as kube's csrsigning
// controller (its PermissiveSigningPolicy): subject and SANs copied from the request, key usages and
// extended key usages from spec.usages, not a CA, notBefore backdated five minutes (clock skew),
// notAfter capped by the CA's own.
//
// Called by the signer controller for each approved request; pure apart from the crypto (async).

import '../../util/reflect-shim.ts';
import * as x509 from '@peculiar/x509';
import { randomBytes } from 'node:crypto';
import type { webcrypto } from 'node:crypto';
import type { ParsedCsr } from '../../api/certificates/csr.ts';

x509.cryptoProvider.set(globalThis.crypto);

/** The CA the signer signs with: PEM certificate and PKCS#8 PEM key (ECDSA P-256, as src/apiserver/auth/pki.ts makes it). */
export interface SigningCA {
  certPem: string;
  keyPem: string;
}

const BACKDATE_MS = 5 * 60 * 1000;
/** kube-controller-manager's --cluster-signing-duration default: one year. */
export const DEFAULT_SIGNING_DURATION_MS = 365 * 24 * 60 * 60 * 1000;
const MIN_DURATION_MS = 10 * 60 * 1000;

/** The certificate's lifetime: the signer's own unless the request asks for less (never under ten minutes). */
export function signingDuration(expirationSeconds: number | undefined, certTTLMs = DEFAULT_SIGNING_DURATION_MS): number {
  if (expirationSeconds == null) return certTTLMs;
  const requested = expirationSeconds * 1000;
  if (requested > certTTLMs) return certTTLMs;
  return Math.max(requested, MIN_DURATION_MS);
}

const KEY_USAGES: Record<string, x509.KeyUsageFlags> = {
  signing: x509.KeyUsageFlags.digitalSignature,
  'digital signature': x509.KeyUsageFlags.digitalSignature,
  'content commitment': x509.KeyUsageFlags.nonRepudiation,
  'key encipherment': x509.KeyUsageFlags.keyEncipherment,
  'key agreement': x509.KeyUsageFlags.keyAgreement,
  'data encipherment': x509.KeyUsageFlags.dataEncipherment,
  'cert sign': x509.KeyUsageFlags.keyCertSign,
  'crl sign': x509.KeyUsageFlags.cRLSign,
  'encipher only': x509.KeyUsageFlags.encipherOnly,
  'decipher only': x509.KeyUsageFlags.decipherOnly,
};

const EXT_KEY_USAGES: Record<string, string> = {
  any: '2.5.29.37.0',
  'server auth': x509.ExtendedKeyUsage.serverAuth,
  'client auth': x509.ExtendedKeyUsage.clientAuth,
  'code signing': x509.ExtendedKeyUsage.codeSigning,
  'email protection': x509.ExtendedKeyUsage.emailProtection,
  's/mime': x509.ExtendedKeyUsage.emailProtection,
  'ipsec end system': '1.3.6.1.5.5.7.3.5',
  'ipsec tunnel': '1.3.6.1.5.5.7.3.6',
  'ipsec user': '1.3.6.1.5.5.7.3.7',
  timestamping: x509.ExtendedKeyUsage.timeStamping,
  'ocsp signing': x509.ExtendedKeyUsage.ocspSigning,
  'microsoft sgc': '1.3.6.1.4.1.311.10.3.3',
  'netscape sgc': '2.16.840.1.113730.4.1',
};

/** Signs `req` with `ca`; returns the certificate's PEM. */
export async function signCsr(ca: SigningCA, req: ParsedCsr, usages: readonly string[], durationMs: number, now: number): Promise<string> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const signingKey = await globalThis.crypto.subtle.importKey('pkcs8', pemBody(ca.keyPem), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  const publicKey = new x509.PublicKey(req.publicKeySpki);
  let flags = 0;
  const eku: string[] = [];
  for (const u of usages) {
    if (KEY_USAGES[u] !== undefined) flags |= KEY_USAGES[u];
    if (EXT_KEY_USAGES[u] !== undefined && !eku.includes(EXT_KEY_USAGES[u])) eku.push(EXT_KEY_USAGES[u]);
  }
  const extensions: x509.Extension[] = [new x509.BasicConstraintsExtension(false, undefined, true)];
  if (flags) extensions.push(new x509.KeyUsagesExtension(flags, true));
  if (eku.length) extensions.push(new x509.ExtendedKeyUsageExtension(eku));
  const ski = caCert.getExtension(x509.SubjectKeyIdentifierExtension);
  if (ski) extensions.push(new x509.AuthorityKeyIdentifierExtension(ski.keyId));
  const names: x509.JsonGeneralNames = [
    ...req.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...req.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
    ...req.emailAddresses.map((value) => ({ type: 'email' as const, value })),
    ...req.uris.map((value) => ({ type: 'url' as const, value })),
  ];
  if (names.length) extensions.push(new x509.SubjectAlternativeNameExtension(names));
  const notAfter = Math.min(now + durationMs, caCert.notAfter.getTime());
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: req.subject,
    issuer: caCert.subjectName,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(notAfter),
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as webcrypto.EcdsaParams,
    publicKey,
    signingKey,
    extensions,
  });
  return cert.toString('pem') + '\n';
}

// Positive, non-zero leading byte: Go rejects negative serial numbers.
function randomSerial(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x40;
  return b.toString('hex');
}

function pemBody(pem: string): Buffer {
  const m = /-----BEGIN [A-Z ]+-----([\s\S]*?)-----END [A-Z ]+-----/.exec(pem);
  return Buffer.from(m ? m[1]!.replace(/\s+/g, '') : '', 'base64');
}
