import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../util/reflect-shim.ts';
import * as x509 from '@peculiar/x509';
import { X509Certificate } from 'node:crypto';
import { createCsr, parseCsr } from '../../api/certificates/csr.ts';
import { signCsr, signingDuration, type SigningCA } from './sign.ts';

async function testCA(): Promise<SigningCA> {
  const keys = await globalThis.crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01', name: 'CN=test-ca', notBefore: new Date(Date.UTC(2025, 0, 1)), notAfter: new Date(Date.UTC(2030, 0, 1)),
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' }, keys,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true), await x509.SubjectKeyIdentifierExtension.create(keys.publicKey)],
  });
  const der = Buffer.from(await globalThis.crypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { certPem: cert.toString('pem'), keyPem: `-----BEGIN PRIVATE KEY-----\n${der.toString('base64')}\n-----END PRIVATE KEY-----\n` };
}

test('signingDuration: the request\'s expirationSeconds when shorter than the signer\'s, never under ten minutes', () => {
  const year = 365 * 24 * 3600 * 1000;
  const cases: Array<[number | undefined, number]> = [[undefined, year], [3600, 3600_000], [2 * 365 * 24 * 3600, year], [60, 600_000]];
  for (const [secs, want] of cases) assert.equal(signingDuration(secs), want, String(secs));
});

test('signCsr: subject, SANs, usages and lifetime from the request, signed by the CA, capped by the CA', async () => {
  const ca = await testCA();
  const { csrPem } = await createCsr({ commonName: 'system:node:a', organizations: ['system:nodes'] }, ['a', '10.0.0.1']);
  const now = Date.UTC(2026, 0, 1);
  const pem = await signCsr(ca, parseCsr(csrPem), ['digital signature', 'server auth'], 3600_000, now);
  const cert = new X509Certificate(pem);
  const caCert = new X509Certificate(ca.certPem);
  assert.ok(cert.checkIssued(caCert) && cert.verify(caCert.publicKey));
  assert.match(cert.subject, /CN=system:node:a/);
  assert.match(cert.subject, /O=system:nodes/);
  assert.equal(cert.subjectAltName, 'DNS:a, IP Address:10.0.0.1');
  assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  assert.equal(Date.parse(cert.validTo), now + 3600_000);
  assert.equal(Date.parse(cert.validFrom), now - 5 * 60_000);
  assert.equal(cert.ca, false);

  const late = Date.UTC(2029, 11, 31);
  const capped = new X509Certificate(await signCsr(ca, parseCsr(csrPem), ['client auth'], 365 * 24 * 3600_000, late));
  assert.equal(Date.parse(capped.validTo), Date.UTC(2030, 0, 1));
});
