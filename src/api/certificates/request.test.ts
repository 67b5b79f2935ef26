import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { checkCsrSignature, parseCsr } from './csr.ts';
import { createCsr } from './request.ts';

test('a request made without @peculiar/x509 reads back, through the parser the API server uses, as what was asked', async () => {
  const { csrPem, keyPem } = await createCsr({ commonName: 'system:node:n1', organizations: ['system:nodes', 'extra'] }, ['n1', 'n1.example', '10.0.0.7', 'fd00::1:2', '::1'], { challengePassword: 'sekrit-pässword' });
  assert.match(csrPem, /^-----BEGIN CERTIFICATE REQUEST-----\n[A-Za-z0-9+/=\n]+\n-----END CERTIFICATE REQUEST-----\n$/);
  const r = parseCsr(csrPem);
  assert.equal(r.commonName, 'system:node:n1');
  assert.deepEqual(r.organizations, ['system:nodes', 'extra']);
  assert.deepEqual(r.dnsNames, ['n1', 'n1.example']);
  assert.deepEqual(r.ipAddresses, ['10.0.0.7', 'fd00::1:2', '::1']);
  assert.equal(r.challengePassword, 'sekrit-pässword');
  assert.equal(checkCsrSignature(r), undefined);
  // The key is the request's: its public half is the request's SubjectPublicKeyInfo.
  const spki = createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' });
  assert.deepEqual(Buffer.from(spki), r.publicKeySpki);
  assert.equal(createPrivateKey(keyPem).asymmetricKeyDetails?.namedCurve, 'prime256v1');
});

test('without hosts or a password the request has neither attribute', async () => {
  const r = parseCsr((await createCsr({ commonName: 'system:node:n2' })).csrPem);
  assert.deepEqual([r.commonName, r.organizations, r.dnsNames, r.ipAddresses, r.challengePassword], ['system:node:n2', [], [], [], undefined]);
  assert.equal(checkCsrSignature(r), undefined);
});
