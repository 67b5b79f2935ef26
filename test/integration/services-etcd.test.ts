// Service allocation with two API servers on one real etcd (Debian's etcd-server): every address and
// node port is claimed by a create-if-absent of its own key, so concurrent creates through both never
// hand out one twice, and a server started later sees what the others claimed.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { openEtcdBackend, type EtcdBackend } from '../../src/storage/etcd/etcd-backend.ts';
import { etcdBinary, startTestEtcd, type TestEtcd } from '../../src/storage/etcd/testing-etcd.ts';
import { Registry } from '../../src/registry/registry.ts';
import type { KubeObject, Service } from '../../src/api/types.ts';
import { StatusError } from '../../src/util/status.ts';

const skip = etcdBinary() ? false : 'etcd is not installed (Debian etcd-server)';
let etcd: TestEtcd;
const opened: EtcdBackend[] = [];

before(async () => {
  if (!skip) etcd = await startTestEtcd();
});
after(async () => {
  for (const b of opened) await b.close();
  await etcd?.stop();
});

test('two API servers on one etcd: distinct addresses and node ports, a full range seen by a third', { skip }, async () => {
  const prefix = `/tk-svc-${randomBytes(3).toString('hex')}`;
  const open = async () => {
    const b = await openEtcdBackend([etcd.endpoint], { prefix });
    opened.push(b);
    return b;
  };
  const ranges = { serviceCidr: '10.43.0.0/28', nodePorts: { base: 30000, size: 14 } };
  const servers = [new Registry(await open(), { serviceRanges: ranges }), new Registry(await open(), { serviceRanges: ranges })];
  const svc = (name: string): KubeObject => ({ metadata: { name }, spec: { type: 'NodePort', selector: { app: name }, ports: [{ port: 80 }] } }) as KubeObject;
  const made = (await Promise.all(Array.from({ length: 14 }, (_, i) => servers[i % 2].store('services').create('default', svc(`s${i}`))))) as Service[];
  assert.equal(new Set(made.map((s) => s.spec!.clusterIP)).size, 14);
  assert.equal(new Set(made.map((s) => s.spec!.ports![0].nodePort)).size, 14);
  const third = new Registry(await open(), { serviceRanges: ranges }).store('services');
  await assert.rejects(third.create('default', svc('late')), (e) => e instanceof StatusError && e.code === 500 && /range is full/.test(e.message));
  await servers[0].store('services').delete('default', 's5');
  const late = (await third.create('default', svc('late'))) as Service;
  assert.equal(late.spec!.clusterIP, made[5].spec!.clusterIP);
});
