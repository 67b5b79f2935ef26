import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import { AGENT_CLIENT_CN, caExpiryWarning, caHash, ensurePki, issueClientCert, issueServingCert, LEAF_NAMES, leafCertPem, needsRenewal, parseNodeTokenHash, type LeafName, type Pki } from './pki.ts';
import { FakeClock } from '../../util/clock.ts';

const DAY = 24 * 60 * 60 * 1000;

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tk-pki-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function sans(pem: string): string {
  return new X509Certificate(pem).subjectAltName ?? '';
}

test('ensurePki: first start creates a CA, serving and admin certs, tokens, with private modes', async (t) => {
  const dir = await tempDir(t);
  // The interface addresses there both before and after the certificate is made: tests running beside
  // this one add and remove links.
  const addresses = () => Object.values(networkInterfaces()).flat().filter((a) => a && !a.internal && a.family === 'IPv4').map((a) => a!.address);
  const before = addresses();
  const pki = await ensurePki(dir, { hosts: ['10.1.2.3', 'Node-1.Example'] });
  const interfaceAddresses = addresses().filter((a) => before.includes(a));
  const ca = new X509Certificate(pki.caCertPem);
  assert.equal(ca.ca, true);
  assert.ok(Date.parse(ca.validTo) - Date.now() > 3600 * DAY, 'CA lives ~10 years');

  const server = new X509Certificate(pki.serverCertPem);
  assert.ok(server.checkIssued(ca) && server.verify(ca.publicKey));
  for (const ip of ['127.0.0.1', '::1', '10.1.2.3']) assert.equal(server.checkIP(ip), ip, ip);
  for (const host of ['localhost', 'node-1.example', 'kubernetes.default.svc']) assert.equal(server.checkHost(host), host, host);
  assert.equal(server.checkHost('other.example'), undefined);
  for (const a of interfaceAddresses) assert.equal(server.checkIP(a), a, `interface address ${a}`);
  assert.ok(Array.isArray(server.keyUsage) && server.keyUsage.includes('1.3.6.1.5.5.7.3.1'), 'serverAuth EKU');

  const admin = new X509Certificate(pki.adminCertPem);
  assert.ok(admin.checkIssued(ca) && admin.verify(ca.publicKey));
  assert.equal(admin.subject, 'CN=admin\nO=system:masters');
  assert.ok(admin.keyUsage?.includes('1.3.6.1.5.5.7.3.2'), 'clientAuth EKU');

  assert.match(pki.adminToken, /^[0-9a-f]{64}$/);
  assert.equal(parseNodeTokenHash(pki.nodeToken), caHash(pki.caCertPem));
  assert.match(pki.nodeToken, /^K10[0-9a-f]{64}::node:[0-9a-f]{32}$/);

  const modes: Array<[string, number]> = [
    [pki.paths.caKey, 0o600],
    [pki.paths.serverKey, 0o600],
    [pki.paths.adminKey, 0o600],
    [pki.paths.adminToken, 0o600],
    [pki.paths.nodeToken, 0o600],
    [pki.paths.pkiDir, 0o700],
  ];
  for (const [file, mode] of modes) assert.equal((await stat(file)).mode & 0o777, mode, file);
  assert.equal((await readFile(pki.paths.caKey, 'utf8')).startsWith('-----BEGIN PRIVATE KEY-----'), true);
});

test('ensurePki: later starts re-use everything; a new host renews only the serving cert', async (t) => {
  const dir = await tempDir(t);
  const first = await ensurePki(dir, { hosts: ['10.1.2.3'] });
  const again = await ensurePki(dir, { hosts: ['10.1.2.3'] });
  assert.deepEqual({ ...again, paths: undefined }, { ...first, paths: undefined });

  const grown = await ensurePki(dir, { hosts: ['10.1.2.3', '192.168.7.9'] });
  assert.notEqual(grown.serverCertPem, first.serverCertPem);
  assert.match(sans(grown.serverCertPem), /192\.168\.7\.9/);
  assert.equal(grown.caCertPem, first.caCertPem);
  assert.equal(grown.adminCertPem, first.adminCertPem);
  assert.equal(grown.adminToken, first.adminToken);
  assert.equal(grown.nodeToken, first.nodeToken);

  // A subset of what the cert already covers needs no new cert.
  const subset = await ensurePki(dir, {});
  assert.equal(subset.serverCertPem, grown.serverCertPem);
});

test('ensurePki: leaf certs are renewed when less than 90 days remain, the CA is kept', async (t) => {
  const dir = await tempDir(t);
  const first = await ensurePki(dir);
  const later = Date.now() + 300 * DAY;
  const renewed = await ensurePki(dir, { now: () => later });
  assert.equal(renewed.caCertPem, first.caCertPem);
  assert.notEqual(renewed.serverCertPem, first.serverCertPem);
  assert.notEqual(renewed.adminCertPem, first.adminCertPem);
  assert.ok(Date.parse(new X509Certificate(renewed.serverCertPem).validTo) > later + 300 * DAY);
});

test('ensurePki: a lost CA re-issues every cert and re-mints the node token (its hash pins the CA)', async (t) => {
  const dir = await tempDir(t);
  const first = await ensurePki(dir);
  await unlink(first.paths.caKey);
  const second = await ensurePki(dir);
  assert.notEqual(second.caCertPem, first.caCertPem);
  const ca = new X509Certificate(second.caCertPem);
  for (const pem of [second.serverCertPem, second.adminCertPem]) assert.ok(new X509Certificate(pem).verify(ca.publicKey));
  assert.notEqual(second.nodeToken, first.nodeToken);
  assert.equal(parseNodeTokenHash(second.nodeToken), caHash(second.caCertPem));
  assert.equal(second.adminToken, first.adminToken, 'the admin token does not depend on the CA');
});

test('issueClientCert / issueServingCert: signed by the CA, subject and names as asked', async (t) => {
  const pki = await ensurePki(await tempDir(t));
  const ca = new X509Certificate(pki.caCertPem);
  const node = await issueClientCert(pki, 'system:node:n1', ['system:nodes', 'extra']);
  const cert = new X509Certificate(node.certPem);
  assert.ok(cert.verify(ca.publicKey));
  assert.equal(cert.subject, 'CN=system:node:n1\nO=system:nodes\nO=extra');
  assert.match(node.keyPem, /^-----BEGIN PRIVATE KEY-----/);
  const serving = await issueServingCert(pki, 'node-n1', ['10.9.9.9', 'n1.local']);
  const s = new X509Certificate(serving.certPem);
  assert.ok(s.verify(ca.publicKey));
  assert.equal(s.checkIP('10.9.9.9'), '10.9.9.9');
  assert.equal(s.checkHost('n1.local'), 'n1.local');
});

function serial(pem: string): string {
  return new X509Certificate(pem).serialNumber;
}

function leafSerials(pki: Pki): Record<LeafName, string> {
  return Object.fromEntries(LEAF_NAMES.map((n) => [n, serial(leafCertPem(pki, n))])) as Record<LeafName, string>;
}

test('ensurePki: the API server\'s client certificate toward agents is kept on disk like the other leaves', async (t) => {
  const dir = await tempDir(t);
  const pki = await ensurePki(dir);
  const cert = new X509Certificate(pki.agentClientCertPem);
  assert.equal(cert.subject, `CN=${AGENT_CLIENT_CN}\nO=system:masters`);
  assert.ok(cert.verify(new X509Certificate(pki.caCertPem).publicKey));
  assert.ok(cert.checkPrivateKey(createPrivateKey(pki.agentClientKeyPem)));
  assert.equal(await readFile(pki.paths.agentClientCert, 'utf8'), pki.agentClientCertPem);
  assert.equal((await stat(pki.paths.agentClientKey)).mode & 0o777, 0o600);
  assert.equal((await ensurePki(dir)).agentClientCertPem, pki.agentClientCertPem);
});

test('renewal threshold on a fake clock: leaves are renewed once 90 days or less are left, never the CA', async (t) => {
  const cases: Array<{ name: string; afterDays: number; renewed: boolean }> = [
    { name: 'just issued', afterDays: 0, renewed: false },
    { name: '91 days left', afterDays: 274, renewed: false },
    { name: '89 days left', afterDays: 276, renewed: true },
    { name: 'expired', afterDays: 400, renewed: true },
  ];
  for (const c of cases) {
    const dir = await tempDir(t);
    const clock = new FakeClock(Date.UTC(2030, 5, 1));
    const first = await ensurePki(dir, { now: () => clock.now() });
    clock.advance(c.afterDays * DAY);
    for (const name of LEAF_NAMES) assert.equal(needsRenewal(leafCertPem(first, name), clock.now()), c.renewed, `${c.name}: needsRenewal(${name})`);
    const again = await ensurePki(dir, { now: () => clock.now() });
    assert.equal(again.caCertPem, first.caCertPem, `${c.name}: CA kept`);
    for (const name of LEAF_NAMES) {
      assert.equal(serial(leafCertPem(again, name)) !== serial(leafCertPem(first, name)), c.renewed, `${c.name}: ${name} renewed?`);
    }
    if (c.renewed) {
      const s = new X509Certificate(again.serverCertPem);
      assert.equal(s.validToDate.getTime(), clock.now() + 365 * DAY, `${c.name}: a year from the clock's now`);
      assert.ok(s.validFromDate.getTime() < clock.now());
    }
  }
});

test('ensurePki renew: re-issues exactly the named leaves; createCa false refuses a dir without a CA', async (t) => {
  const dir = await tempDir(t);
  const first = await ensurePki(dir);
  const only = await ensurePki(dir, { renew: ['admin'], createCa: false });
  const before = leafSerials(first);
  const after = leafSerials(only);
  assert.notEqual(after.admin, before.admin);
  assert.equal(after.serving, before.serving);
  assert.equal(after['agent-client'], before['agent-client']);
  assert.equal(only.nodeToken, first.nodeToken);

  const empty = await tempDir(t);
  await assert.rejects(ensurePki(empty, { createCa: false }), { code: 'ERR_PKI', message: /no cluster CA/ });
});

test('ensurePki: a certificate beside a key that is not its own is re-issued', async (t) => {
  const dir = await tempDir(t);
  const first = await ensurePki(dir);
  await writeFile(first.paths.serverKey, first.adminKeyPem);
  const again = await ensurePki(dir);
  assert.notEqual(again.serverCertPem, first.serverCertPem);
  assert.ok(new X509Certificate(again.serverCertPem).checkPrivateKey(createPrivateKey(await readFile(first.paths.serverKey, 'utf8'))));
});

test('ensurePki: concurrent renewals (server and `certs rotate`) leave every certificate beside its own key', async (t) => {
  const dir = await tempDir(t);
  await ensurePki(dir);
  await Promise.all(Array.from({ length: 4 }, () => ensurePki(dir, { renew: LEAF_NAMES })));
  const p = (await ensurePki(dir)).paths;
  for (const [crt, key] of [[p.serverCert, p.serverKey], [p.adminCert, p.adminKey], [p.agentClientCert, p.agentClientKey]]) {
    assert.ok(new X509Certificate(await readFile(crt, 'utf8')).checkPrivateKey(createPrivateKey(await readFile(key, 'utf8'))), crt);
  }
  await assert.rejects(stat(path.join(p.pkiDir, '.lock')), { code: 'ENOENT' });
});

test('caExpiryWarning: silent with more than a year left, loud (and says re-join) within a year and after expiry', async (t) => {
  const clock = new FakeClock(Date.UTC(2030, 0, 1));
  const pki = await ensurePki(await tempDir(t), { now: () => clock.now() });
  const cases: Array<{ afterDays: number; match: RegExp | undefined }> = [
    { afterDays: 0, match: undefined },
    { afterDays: 3650 - 366, match: undefined },
    { afterDays: 3650 - 300, match: /expires on .* \(in 300 days\).*re-joined/ },
    { afterDays: 3651, match: /EXPIRED/ },
  ];
  for (const c of cases) {
    const w = caExpiryWarning(pki.caCertPem, clock.now() + c.afterDays * DAY);
    if (c.match) assert.match(w ?? '', c.match, `after ${c.afterDays} days`);
    else assert.equal(w, undefined, `after ${c.afterDays} days`);
  }
});
