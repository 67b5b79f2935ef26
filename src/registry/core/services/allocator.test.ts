import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBackend } from '../../../storage/registry.ts';
import type { Backend } from '../../../storage/backend.ts';
import { Registry } from '../../registry.ts';
import type { Store } from '../../store.ts';
import type { KubeObject, Service } from '../../../api/types.ts';
import { StatusError } from '../../../util/status.ts';
import { FakeClock } from '../../../util/clock.ts';
import { IP_CLAIM_PREFIX, NODE_PORT_CLAIM_PREFIX, ServiceAllocator } from './allocator.ts';
import { ServiceClaimRepair } from './repair.ts';

async function withBackend(fn: (backend: Backend, dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'svc-alloc-'));
  const backend = await openBackend(`sqlite:${join(dir, 'state.db')}`);
  try {
    await fn(backend, dir);
  } finally {
    await backend.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const services = (backend: Backend, ranges?: Registry['serviceRanges'], clock?: FakeClock): Store => new Registry(backend, { serviceRanges: ranges, clock }).store('services');

function svc(name: string, spec: NonNullable<Service['spec']>): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec } as KubeObject;
}
const web = (name: string, extra: NonNullable<Service['spec']> = {}) => svc(name, { selector: { app: name }, ports: [{ port: 80 }], ...extra });

async function claims(backend: Backend, prefix: string): Promise<string[]> {
  return (await backend.list(prefix)).items.map((kv) => kv.key.slice(prefix.length)).sort();
}

async function rejection(p: Promise<unknown>): Promise<StatusError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof StatusError) return err;
    throw err;
  }
  assert.fail('expected the write to be refused');
}

const specOf = (o: KubeObject) => (o as Service).spec!;

test('a new Service gets a random address from the upper band and node ports; delete gives them back', async () => {
  await withBackend(async (backend) => {
    const store = services(backend);
    const a = await store.create('default', web('a', { type: 'NodePort' }));
    const ip = specOf(a).clusterIP!;
    assert.match(ip, /^10\.43\.\d+\.\d+$/);
    // The static band (10.43.0.1-10.43.1.0) is left for addresses asked for by number.
    const [, , c, d] = ip.split('.').map(Number);
    assert.ok(c * 256 + d > 256, `${ip} is above the static band`);
    assert.deepEqual(specOf(a).clusterIPs, [ip]);
    const np = specOf(a).ports![0].nodePort!;
    assert.ok(np >= 30086 && np <= 32767, `node port ${np} is dynamic`);
    assert.deepEqual(await claims(backend, IP_CLAIM_PREFIX), [ip]);
    assert.deepEqual(await claims(backend, NODE_PORT_CLAIM_PREFIX), [String(np)]);
    const claim = JSON.parse((await backend.get(IP_CLAIM_PREFIX + ip))!.value) as { kind: string; spec: { parentRef: unknown } };
    assert.equal(claim.kind, 'IPAddress');
    assert.deepEqual(claim.spec.parentRef, { group: '', resource: 'services', namespace: 'default', name: 'a' });
    await store.delete('default', 'a');
    assert.deepEqual(await claims(backend, IP_CLAIM_PREFIX), []);
    assert.deepEqual(await claims(backend, NODE_PORT_CLAIM_PREFIX), []);
  });
});

test('requested addresses and ports: out of range, taken, and never leaked by a refused, failed or dry-run create', async () => {
  await withBackend(async (backend) => {
    const store = services(backend);
    await store.create('default', web('a', { clusterIP: '10.43.0.50', type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }));
    const cases: { what: string; obj: KubeObject; message: string; code?: number }[] = [
      {
        what: 'address outside the range',
        obj: web('b', { clusterIP: '10.0.0.1' }),
        message: 'Service "b" is invalid: spec.clusterIPs: Invalid value: []string{"10.0.0.1"}: failed to allocate IP 10.0.0.1: the provided IP (10.0.0.1) is not in the valid range. The range of valid IPs is 10.43.0.0/16',
      },
      {
        what: 'the network address',
        obj: web('b', { clusterIP: '10.43.0.0' }),
        message: 'Service "b" is invalid: spec.clusterIPs: Invalid value: []string{"10.43.0.0"}: failed to allocate IP 10.43.0.0: the provided IP (10.43.0.0) is not in the valid range. The range of valid IPs is 10.43.0.0/16',
      },
      { what: 'address taken', obj: web('b', { clusterIP: '10.43.0.50' }), message: 'Service "b" is invalid: spec.clusterIPs: Invalid value: []string{"10.43.0.50"}: failed to allocate IP 10.43.0.50: provided IP is already allocated' },
      {
        what: 'node port out of range',
        obj: web('b', { type: 'NodePort', ports: [{ port: 80, nodePort: 8080 }] }),
        message: 'Service "b" is invalid: spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-32767',
      },
      { what: 'node port taken', obj: web('b', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }), message: 'Service "b" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated' },
      {
        what: 'address free but node port taken: the address is given back',
        obj: web('b', { clusterIP: '10.43.0.60', type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }),
        message: 'Service "b" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated',
      },
      {
        what: 'requested health-check port taken',
        obj: web('b', { type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 30080 }),
        message: 'Internal error occurred: failed to allocate requested HealthCheck NodePort 30080: provided port is already allocated',
        code: 500,
      },
      { what: 'name taken after allocation: AlreadyExists, claims given back', obj: web('a', { clusterIP: '10.43.0.61', type: 'NodePort', ports: [{ port: 80, nodePort: 30081 }] }), message: 'services "a" already exists', code: 409 },
    ];
    for (const c of cases) {
      const err = await rejection(store.create('default', c.obj));
      assert.equal(err.message, c.message, c.what);
      assert.equal(err.code, c.code ?? 422, c.what);
    }
    const dry = await store.create('default', web('c', { clusterIP: '10.43.0.62', type: 'LoadBalancer' }), { dryRun: true });
    assert.equal(specOf(dry).clusterIP, '10.43.0.62');
    assert.ok(specOf(dry).ports![0].nodePort, 'a dry run shows the node port it would get');
    assert.equal(await store.tryGet('default', 'c'), null);
    assert.deepEqual(await claims(backend, IP_CLAIM_PREFIX), ['10.43.0.50']);
    assert.deepEqual(await claims(backend, NODE_PORT_CLAIM_PREFIX), ['30080']);
  });
});

test('type changes claim and release: ClusterIP → NodePort → ClusterIP → ExternalName → ClusterIP; headless claims nothing', async () => {
  await withBackend(async (backend) => {
    const store = services(backend);
    await store.create('default', web('a'));
    const ip = specOf((await store.get('default', 'a'))).clusterIP!;
    const update = (spec: NonNullable<Service['spec']>) =>
      store.guaranteedUpdate('default', 'a', (cur) => ({ ...cur, spec: { ...(cur as Service).spec, ...spec } }) as KubeObject);
    const np = specOf(await update({ type: 'NodePort' })).ports![0].nodePort!;
    assert.ok(np > 0);
    assert.deepEqual(await claims(backend, NODE_PORT_CLAIM_PREFIX), [String(np)]);
    const back = await update({ type: 'ClusterIP' });
    assert.equal(specOf(back).ports![0].nodePort, undefined);
    assert.equal(specOf(back).externalTrafficPolicy, undefined);
    assert.deepEqual(await claims(backend, NODE_PORT_CLAIM_PREFIX), []);
    const ext = await update({ type: 'ExternalName', externalName: 'example.com' });
    assert.equal(specOf(ext).clusterIP, undefined);
    assert.equal(specOf(ext).ipFamilies, undefined);
    assert.deepEqual(await claims(backend, IP_CLAIM_PREFIX), []);
    const again = await store.guaranteedUpdate('default', 'a', (cur) => {
      const spec = { ...(cur as Service).spec, type: 'ClusterIP' };
      delete spec.externalName;
      return { ...cur, spec } as KubeObject;
    });
    assert.notEqual(specOf(again).clusterIP, undefined);
    assert.deepEqual(await claims(backend, IP_CLAIM_PREFIX), [specOf(again).clusterIP]);
    assert.ok(ip);
    await store.create('default', svc('headless', { clusterIP: 'None', selector: { app: 'x' }, ports: [{ port: 80 }] }));
    assert.deepEqual(await claims(backend, IP_CLAIM_PREFIX), [specOf(again).clusterIP]);
  });
});

test('LoadBalancer with externalTrafficPolicy Local gets a health-check node port; switching to Cluster releases it', async () => {
  await withBackend(async (backend) => {
    const store = services(backend);
    const lb = await store.create('default', web('lb', { type: 'LoadBalancer', externalTrafficPolicy: 'Local' }));
    const hc = specOf(lb).healthCheckNodePort!;
    assert.ok(hc >= 30000 && hc <= 32767);
    assert.notEqual(hc, specOf(lb).ports![0].nodePort);
    assert.equal((await claims(backend, NODE_PORT_CLAIM_PREFIX)).length, 2);
    await store.guaranteedUpdate('default', 'lb', (cur) => ({ ...cur, spec: { ...(cur as Service).spec, externalTrafficPolicy: 'Cluster' } }) as KubeObject);
    assert.deepEqual(await claims(backend, NODE_PORT_CLAIM_PREFIX), [String(specOf(lb).ports![0].nodePort)]);
  });
});

test('state survives a restart, and two allocators on one store never hand out the same address or port', async () => {
  await withBackend(async (backend) => {
    const ranges = { serviceCidr: '10.43.0.0/28', nodePorts: { base: 30000, size: 14 } };
    // Two API servers (registries) on one store, creating concurrently into a small range.
    const one = services(backend, ranges);
    const two = services(backend, ranges);
    const created = await Promise.all(Array.from({ length: 14 }, (_, i) => (i % 2 ? one : two).create('default', web(`s${i}`, { type: 'NodePort' }))));
    const ips = created.map((o) => specOf(o).clusterIP);
    const ports = created.map((o) => specOf(o).ports![0].nodePort);
    assert.equal(new Set(ips).size, 14, `14 distinct addresses: ${ips.join(' ')}`);
    assert.equal(new Set(ports).size, 14);
    // A third server started later sees the range as full.
    const restarted = services(backend, ranges);
    const err = await rejection(restarted.create('default', web('full')));
    assert.equal(err.code, 500);
    assert.equal(err.message, 'Internal error occurred: failed to allocate a serviceIP: range is full');
    await one.delete('default', 's3');
    const reused = await restarted.create('default', web('again'));
    assert.equal(specOf(reused).clusterIP, ips[3]);
  });
});

test('dry-run updates claim nothing and release nothing', async () => {
  await withBackend(async (backend) => {
    const store = services(backend);
    await store.create('default', web('a', { type: 'NodePort' }));
    const before = await claims(backend, NODE_PORT_CLAIM_PREFIX);
    const toLB = (cur: KubeObject) => ({ ...cur, spec: { ...(cur as Service).spec, type: 'LoadBalancer', externalTrafficPolicy: 'Local' } }) as KubeObject;
    const dry = await store.guaranteedUpdate('default', 'a', toLB, { dryRun: true });
    assert.ok(specOf(dry).healthCheckNodePort);
    assert.deepEqual(await claims(backend, NODE_PORT_CLAIM_PREFIX), before);
    await store.guaranteedUpdate('default', 'a', (cur) => ({ ...cur, spec: { ...(cur as Service).spec, type: 'ClusterIP' } }) as KubeObject, { dryRun: true });
    assert.deepEqual(await claims(backend, NODE_PORT_CLAIM_PREFIX), before);
  });
});

test('repair frees claims no Service holds (once old enough) and restores claims a stored Service lost', async () => {
  await withBackend(async (backend) => {
    const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
    const reg = new Registry(backend, { clock });
    const store = reg.store('services');
    const a = await store.create('default', web('a', { type: 'NodePort' }));
    // A crash between claiming and storing leaves claims with no Service.
    const al = new ServiceAllocator(backend, reg.serviceRanges, { clock });
    await al.allocateCreate({ metadata: { namespace: 'default', name: 'ghost' }, spec: { type: 'NodePort', clusterIP: '10.43.0.77', ports: [{ port: 1, nodePort: 30077 }] } }, false);
    // And a claim of a stored Service went missing.
    await backend.delete(IP_CLAIM_PREFIX + specOf(a).clusterIP!);
    const repair = new ServiceClaimRepair(backend, reg.serviceRanges, { clock, listServices: async () => (await store.list({})).items as Service[] });
    const first = await repair.runOnce();
    assert.deepEqual(first, { restored: 1, released: 0, pendingOrphans: 2, conflicts: 0 });
    assert.deepEqual(await claims(backend, IP_CLAIM_PREFIX), ['10.43.0.77', specOf(a).clusterIP!].sort());
    clock.advance(61_000);
    const second = await repair.runOnce();
    assert.deepEqual(second, { restored: 0, released: 2, pendingOrphans: 0, conflicts: 0 });
    assert.deepEqual(await claims(backend, IP_CLAIM_PREFIX), [specOf(a).clusterIP!]);
    assert.deepEqual(await claims(backend, NODE_PORT_CLAIM_PREFIX), [String(specOf(a).ports![0].nodePort)]);
  });
});

test('a restarted API server (the store closed and opened again) keeps every claim', async () => {
  await withBackend(async (backend, dir) => {
    const a = (await services(backend).create('default', web('a', { type: 'NodePort' }))) as Service;
    await backend.close();
    const reopened = await openBackend(`sqlite:${join(dir, 'state.db')}`);
    try {
      const store = services(reopened);
      const ip = a.spec!.clusterIP!;
      const np = a.spec!.ports![0].nodePort!;
      const err = await rejection(store.create('default', web('b', { clusterIP: ip })));
      assert.equal(err.message, `Service "b" is invalid: spec.clusterIPs: Invalid value: []string{"${ip}"}: failed to allocate IP ${ip}: provided IP is already allocated`);
      const err2 = await rejection(store.create('default', web('c', { type: 'NodePort', ports: [{ port: 80, nodePort: np }] })));
      assert.equal(err2.message, `Service "c" is invalid: spec.ports[0].nodePort: Invalid value: ${np}: provided port is already allocated`);
      await store.delete('default', 'a');
      assert.equal(specOf(await store.create('default', web('b', { clusterIP: ip }))).clusterIP, ip);
    } finally {
      await reopened.close();
    }
  });
});
