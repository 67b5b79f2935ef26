// The scheduler's client certificate, issued in memory at start for a year, is renewed while the
// server runs by the certificate rotator's checks once 90 days are left (on the injected certificate
// clock), and the scheduler keeps binding pods with it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node, Pod } from '../../src/api/types.ts';
import { ApiClient } from '../../src/client/client.ts';
import { Nodes, Pods } from '../../src/client/resources.ts';
import { startServer } from '../../src/cmd/server.ts';
import { makeNode, makePod } from '../../src/testing/objects.ts';
import { until } from '../../src/testing/until.ts';
import { FakeClock } from '../../src/util/clock.ts';

const DAY = 24 * 60 * 60 * 1000;

test("the scheduler's client certificate is renewed at 90 days left on the certificate clock; the scheduler keeps working", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tk-schedcert-'));
  const realNow = Date.now();
  // Everything is issued 300 days back: valid in real time (kubectl and TLS check that), 65 days left.
  const certClock = new FakeClock(realNow - 300 * DAY);
  const server = await startServer({ dataDir: join(dir, 'data'), listen: '127.0.0.1:0', certificateClock: certClock, controllers: false, leaderElection: false });
  const admin = new ApiClient({ server: server.controlPlane.url, caPem: server.controlPlane.pki.caCertPem, token: server.controlPlane.pki.adminToken });
  try {
    const node = makeNode('n1').allocatable({ cpu: '2', memory: '4Gi', pods: '110' }).ready('True').build();
    await admin.create<Node>(Nodes, undefined, { ...node, status: undefined });
    await admin.updateStatus<Node>(Nodes, undefined, { ...node, metadata: { name: 'n1' } });
    const bound = (name: string) => until(`${name} bound`, async () => (await admin.get<Pod>(Pods, 'default', name)).spec?.nodeName === 'n1');
    await admin.create<Pod>(Pods, 'default', makePod('before').build());
    await bound('before');

    const first = new X509Certificate(server.schedulerCertPem()!);
    assert.equal(first.subject, 'CN=system:kube-scheduler');
    assert.ok(Date.parse(first.validTo) < realNow + 66 * DAY);
    await server.controlPlane.certificates.check();
    assert.equal(new X509Certificate(server.schedulerCertPem()!).serialNumber, first.serialNumber, 'a year left by the certificate clock: kept');

    certClock.advance(300 * DAY);
    await server.controlPlane.certificates.check();
    const renewed = new X509Certificate(server.schedulerCertPem()!);
    assert.notEqual(renewed.serialNumber, first.serialNumber);
    assert.equal(renewed.subject, 'CN=system:kube-scheduler');
    assert.ok(Date.parse(renewed.validTo) > realNow + 364 * DAY, renewed.validTo);
    await admin.create<Pod>(Pods, 'default', makePod('after').build());
    await bound('after');
  } finally {
    admin.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
