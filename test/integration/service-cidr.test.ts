// A control plane on another Service range (`tinykube server|up --service-cidr`): the bootstrap
// Services take that range's first and tenth addresses, and the serving certificate names the
// kubernetes Service's address, so in-cluster clients dialing it verify the server.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Service } from '../../src/api/types.ts';
import { startControlPlane } from '../../src/cmd/controlplane.ts';

test('--service-cidr moves the bootstrap Services and the serving certificate follows', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tk-service-cidr-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cp = await startControlPlane({ dataDir: join(dir, 'data'), listen: '127.0.0.1:0', serviceRanges: { serviceCidr: '10.96.0.0/16', nodePorts: { base: 30000, size: 2768 } } });
  t.after(() => cp.close());
  const ip = async (ns: string, name: string) => ((await cp.registry.store('services').get(ns, name)) as Service).spec?.clusterIP;
  assert.equal(await ip('default', 'kubernetes'), '10.96.0.1');
  assert.equal(await ip('kube-system', 'kube-dns'), '10.96.0.10');
  const sans = new X509Certificate(cp.pki.serverCertPem).subjectAltName ?? '';
  assert.match(sans, /IP Address:10\.96\.0\.1(,|$)/);
  assert.match(sans, /DNS:kubernetes\.default\.svc\.cluster\.local/);
});
