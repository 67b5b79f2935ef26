import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../util/reflect-shim.ts';
import * as x509 from '@peculiar/x509';
import { FakeClock } from '../util/clock.ts';
import { CertificateRotator, rotationDeadline, type KeyPair } from './certificates.ts';

const HOUR = 3600_000;

async function selfSigned(from: number, hours: number): Promise<KeyPair> {
  const keys = await globalThis.crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({ serialNumber: '01', name: 'CN=system:node:n1', notBefore: new Date(from), notAfter: new Date(from + hours * HOUR), signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' }, keys });
  const der = Buffer.from(await globalThis.crypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { certPem: cert.toString('pem') + '\n', keyPem: `-----BEGIN PRIVATE KEY-----\n${der.toString('base64')}\n-----END PRIVATE KEY-----\n` };
}

test('rotationDeadline: between 70% and 90% of the lifetime, by the jitter', async () => {
  const start = Date.UTC(2026, 0, 1);
  const pair = await selfSigned(start, 100);
  for (const [jitter, want] of [[0, 70], [0.5, 80], [0.999999, 90]] as const) assert.ok(Math.abs(rotationDeadline(pair.certPem, jitter) - (start + want * HOUR)) < 1000, String(jitter));
});

test('CertificateRotator: renews at the deadline, retries failures with backoff, writes the pair 0600', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tk-rotator-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const start = Date.UTC(2026, 0, 1);
  const clock = new FakeClock(start);
  const first = await selfSigned(start, 100);
  const second = await selfSigned(start + 80 * HOUR, 100);
  let calls = 0;
  const errors: unknown[] = [];
  const rotated: KeyPair[] = [];
  let resolveRotated!: () => void;
  const done = new Promise<void>((r) => (resolveRotated = r));
  let failed!: () => void;
  const firstFailure = new Promise<void>((r) => (failed = r));
  const rotator = new CertificateRotator({
    file: join(dir, 'pki', 'kubelet-client-current.pem'),
    request: async () => {
      calls++;
      if (calls === 1) throw new Error('server unavailable');
      return second;
    },
    onRotate: (p) => {
      rotated.push(p);
      resolveRotated();
    },
    onError: (e) => {
      errors.push(e);
      failed();
    },
    clock,
    random: () => 0.5,
    retryMs: 1000,
  });
  rotator.start(first);
  clock.advance(80 * HOUR - 1);
  assert.equal(calls, 0, 'nothing before the deadline');
  clock.advance(1);
  await firstFailure;
  assert.equal(calls, 1);
  clock.advance(1000);
  await done;
  await rotator.stop();
  assert.equal(calls, 2);
  assert.equal(errors.length, 1);
  assert.deepEqual(rotated, [second]);
  const file = join(dir, 'pki', 'kubelet-client-current.pem');
  assert.equal(readFileSync(file, 'utf8'), second.certPem + second.keyPem);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(rotator.current, second);
});
