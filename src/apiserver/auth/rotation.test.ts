import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FakeClock } from '../../util/clock.ts';
import { ensurePki, issueClientCert, LEAF_NAMES, leafCertPem, type LeafName, type Pki } from './pki.ts';
import { CertificateRotator } from './rotation.ts';

const DAY = 24 * 60 * 60 * 1000;
const HOUR = 60 * 60 * 1000;

async function setup(t: { after(fn: () => Promise<void> | void): void }, opts: { watchFiles?: boolean } = {}) {
  const dir = await mkdtemp(path.join(tmpdir(), 'tk-rot-'));
  const clock = new FakeClock(Date.UTC(2030, 5, 1));
  const pki = await ensurePki(dir, { now: () => clock.now() });
  const installed: Array<{ renewed: LeafName[]; serving: string }> = [];
  const errors: unknown[] = [];
  const rotator = new CertificateRotator(pki, {
    dataDir: dir,
    hosts: [],
    clock,
    watchFiles: opts.watchFiles ?? false,
    onRenewed: (current, renewed) => {
      installed.push({ renewed, serving: current.serverCertPem });
    },
    onError: (err) => errors.push(err),
  });
  t.after(async () => {
    rotator.stop();
    await rm(dir, { recursive: true, force: true });
  });
  return { dir, clock, pki, rotator, installed, errors };
}

function nextRenewal(rotator: CertificateRotator): Promise<LeafName[]> {
  return new Promise((resolve) => {
    const off = rotator.onRenewed((r) => {
      off();
      resolve(r);
    });
  });
}

function serials(pki: Pki): string[] {
  return LEAF_NAMES.map((n) => new X509Certificate(leafCertPem(pki, n)).serialNumber);
}

test('CertificateRotator: hourly checks on the clock change nothing until 90 days are left, then renew and install every leaf', async (t) => {
  const { clock, pki, rotator, installed, errors } = await setup(t);
  const original = serials(pki);
  rotator.start();
  assert.equal(clock.pendingTimers(), 1, 'one check armed');
  clock.advance(HOUR);
  assert.deepEqual(await rotator.check(), []);
  assert.equal(installed.length, 0);

  // 276 days in one step: the check armed for the next hour fires and sees 89 days left.
  const renewal = nextRenewal(rotator);
  clock.advance(276 * DAY);
  assert.deepEqual(await renewal, ['serving', 'admin', 'agent-client']);
  assert.equal(installed.length, 1);
  const now = serials(pki);
  for (let i = 0; i < now.length; i++) assert.notEqual(now[i], original[i], `${LEAF_NAMES[i]} replaced in the shared Pki`);
  assert.equal(installed[0].serving, pki.serverCertPem);
  assert.equal(await readFile(pki.paths.serverCert, 'utf8'), pki.serverCertPem, 'the file and the Pki agree');
  assert.ok(new X509Certificate(pki.serverCertPem).validToDate.getTime() > clock.now() + 360 * DAY);

  assert.equal(clock.pendingTimers(), 1, 'the next check is armed');
  assert.deepEqual(errors, []);
});

test('CertificateRotator: certificates written by `certs rotate` (another process) are installed on the file watch', async (t) => {
  const { dir, clock, pki, rotator, installed } = await setup(t, { watchFiles: true });
  rotator.start();
  const before = pki.adminCertPem;
  const renewal = nextRenewal(rotator);
  // What `tinykube certs rotate --service admin` does to the files.
  const rotated = await ensurePki(dir, { renew: ['admin'], createCa: false, now: () => clock.now() });
  assert.deepEqual(await renewal, ['admin']);
  assert.equal(pki.adminCertPem, rotated.adminCertPem);
  assert.notEqual(pki.adminCertPem, before);
  assert.deepEqual(installed.map((i) => i.renewed), [['admin']]);
});

test('CertificateRotator: a stopped rotator arms nothing and installs nothing', async (t) => {
  const { clock, rotator, installed } = await setup(t);
  rotator.start();
  rotator.stop();
  assert.equal(clock.pendingTimers(), 0);
  clock.advance(300 * DAY);
  assert.deepEqual(await rotator.check(), []);
  assert.equal(installed.length, 0);
});

test('CertificateRotator: a certificate kept in memory (the scheduler client) is renewed by the same checks once 90 days are left; a failed renewal is reported and tried again', async (t) => {
  const { clock, pki, rotator, errors } = await setup(t);
  let current = await issueClientCert(pki, 'system:kube-scheduler', [], { now: clock.now() });
  const renewedAt: number[] = [];
  let failNext = false;
  rotator.track({
    name: 'kube-scheduler client',
    certPem: () => current.certPem,
    async renew(now) {
      if (failNext) {
        failNext = false;
        throw new Error('CA unavailable');
      }
      current = await issueClientCert(pki, 'system:kube-scheduler', [], { now });
      renewedAt.push(now);
    },
  });
  rotator.start();
  const first = current.certPem;
  await rotator.check();
  assert.equal(current.certPem, first, 'a year left: kept');
  clock.advance(365 * DAY - 91 * DAY);
  await rotator.check();
  assert.deepEqual(renewedAt, []);
  failNext = true;
  clock.advance(2 * DAY);
  await rotator.check();
  assert.deepEqual(renewedAt, []);
  assert.match(String(errors.at(-1)), /renewing the kube-scheduler client certificate: CA unavailable/);
  clock.advance(HOUR);
  await rotator.check();
  assert.deepEqual(renewedAt, [clock.now()]);
  const cert = new X509Certificate(current.certPem);
  assert.equal(cert.subject, 'CN=system:kube-scheduler');
  assert.equal(new Date(cert.validTo).getTime() > clock.now() + 364 * DAY, true, 'a fresh year');
});
