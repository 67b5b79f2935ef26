import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensurePki, issueClientCert } from '../apiserver/auth/pki.ts';
import { certificateTable, collectCertificates, rotateCertificates, serverDataDirOf } from './certs.ts';

const DAY = 24 * 60 * 60 * 1000;

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tk-certs-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('collectCertificates: the server PKI of either layout, then node certificates and kubeconfigs, skipping containerd', async (t) => {
  const dir = await tempDir(t);
  const now = Date.UTC(2031, 0, 1);
  const pki = await ensurePki(path.join(dir, 'server'), { now: () => now });
  assert.equal(serverDataDirOf(dir), path.join(dir, 'server'));
  assert.equal(serverDataDirOf(path.join(dir, 'server')), path.join(dir, 'server'));
  assert.equal(serverDataDirOf(path.join(dir, 'agent')), undefined);

  const node = await issueClientCert(pki, 'system:node:n1', ['system:nodes'], { now });
  await mkdir(path.join(dir, 'agent', 'pki'), { recursive: true });
  await mkdir(path.join(dir, 'agent', 'containerd'), { recursive: true });
  await writeFile(path.join(dir, 'agent', 'pki', 'client.crt'), node.certPem);
  await writeFile(path.join(dir, 'agent', 'containerd', 'ignored.crt'), node.certPem);
  await writeFile(path.join(dir, 'agent', 'pki', 'not-a-cert.pem'), 'hello');
  const kubeconfig = `apiVersion: v1\nkind: Config\nusers:\n- name: n1\n  user:\n    client-certificate-data: ${Buffer.from(node.certPem).toString('base64')}\n`;
  await writeFile(path.join(dir, 'agent', 'kubelet.kubeconfig'), kubeconfig);

  const report = await collectCertificates(dir, now);
  assert.ok(report);
  assert.deepEqual(report.rows.map((r) => r.name), ['ca', 'serving', 'admin', 'agent-client', 'agent/kubelet.kubeconfig (client)', 'agent/pki/client.crt']);
  assert.equal(report.rows[4].facts.subject, 'CN=system:node:n1, O=system:nodes');
  assert.equal(report.caWarning, undefined);
  assert.ok(report.rows[1].facts.sans.includes('127.0.0.1'));
  assert.equal(await collectCertificates(path.join(dir, 'agent'), now), undefined);
});

test('certificateTable: days left and status as the threshold sees them', async (t) => {
  const start = Date.UTC(2031, 0, 1);
  const pki = await ensurePki(await tempDir(t), { now: () => start });
  const report = (await collectCertificates(path.dirname(pki.paths.pkiDir), start))!;
  const cases: Array<{ afterDays: number; leaf: string; ca: string; days: string }> = [
    { afterDays: 0, leaf: 'OK', ca: 'OK', days: '365' },
    { afterDays: 276, leaf: 'RENEW NOW', ca: 'OK', days: '89' },
    { afterDays: 366, leaf: 'EXPIRED', ca: 'OK', days: '-1' },
    { afterDays: 3400, leaf: 'EXPIRED', ca: 'CA EXPIRES SOON', days: '-3035' },
  ];
  for (const c of cases) {
    const lines = certificateTable(report.rows, start + c.afterDays * DAY).split('\n');
    assert.match(lines[0], /^CERTIFICATE\s+SUBJECT\s+NOT BEFORE\s+NOT AFTER\s+DAYS LEFT\s+STATUS\s+SANS$/);
    const serving = lines.find((l) => l.startsWith('serving '))!;
    assert.match(serving, new RegExp(`\\s${c.days}\\s+${c.leaf}\\s+127\\.0\\.0\\.1,`), `${c.afterDays} days: ${serving}`);
    assert.match(lines.find((l) => l.startsWith('ca '))!, new RegExp(`\\s${c.ca}$`), `${c.afterDays} days`);
  }
});

test('rotateCertificates: renews the named leaves, keeps the serving certificate\'s names and the CA', async (t) => {
  const dir = await tempDir(t);
  const before = await ensurePki(dir, { hosts: ['203.0.113.7', 'api.example'] });
  const rows = await rotateCertificates(dir, ['serving'], Date.now());
  assert.deepEqual(rows.map((r) => r.name), ['serving']);
  const after = (await collectCertificates(dir, Date.now()))!;
  const serving = after.rows.find((r) => r.name === 'serving')!;
  assert.ok(serving.facts.sans.includes('203.0.113.7') && serving.facts.sans.includes('api.example'), serving.facts.sans.join(','));
  assert.equal(serving.facts.serialNumber, rows[0].facts.serialNumber);
  const again = await ensurePki(dir, { createCa: false });
  assert.equal(again.caCertPem, before.caCertPem);
  assert.equal(again.adminCertPem, before.adminCertPem);
  assert.notEqual(again.serverCertPem, before.serverCertPem);
  await assert.rejects(rotateCertificates(path.join(dir, 'nothing'), [], Date.now()), { code: 'ERR_PKI' });
});
