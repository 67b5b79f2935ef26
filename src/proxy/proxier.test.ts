import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EndpointSlice, Service } from '../api/types.ts';
import { FakeClock } from '../util/clock.ts';
import { slice, svc } from './fixtures.ts';
import type { NftRunner, RunResult } from './nft.ts';
import { FULL_SYNC_PERIOD_MS, Proxier } from './proxier.ts';
import type { SyncRecord } from './proxier.ts';
import type { ConntrackDelete } from './script.ts';
import { PushSource } from './testing/source.ts';
import { ProxyHealth } from './health.ts';
import type { ServiceHealthSync } from './health.ts';
import type { HealthCheck } from './model.ts';


class FakeRunner implements NftRunner {
  scripts: string[] = [];
  conntrack: ConntrackDelete[] = [];
  failNext = 0;
  async apply(script: string): Promise<RunResult> {
    this.scripts.push(script);
    if (this.failNext > 0) {
      this.failNext--;
      return { ok: false, error: 'Error: Could not process rule: No such file or directory' };
    }
    return { ok: true };
  }
  async flushConntrack(ops: readonly ConntrackDelete[]): Promise<RunResult> {
    this.conntrack.push(...ops);
    return { ok: true };
  }
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

async function setup(): Promise<{ clock: FakeClock; services: PushSource<Service>; slices: PushSource<EndpointSlice>; runner: FakeRunner; proxier: Proxier; syncs: SyncRecord[]; errors: Error[] }> {
  const clock = new FakeClock();
  const services = new PushSource<Service>();
  const slices = new PushSource<EndpointSlice>();
  const runner = new FakeRunner();
  const syncs: SyncRecord[] = [];
  const errors: Error[] = [];
  const proxier = new Proxier({ services, slices, runner, clock, node: { name: 'node-a', addresses: [], podCIDR: '10.244.0.0/24' }, onSync: (r) => syncs.push(r), onError: (e) => errors.push(e) });
  // The informers' initial lists arrive before start(), as they do from a real informer.
  services.add(svc('web', '10.43.0.10'));
  slices.add(slice('web', ['10.244.0.5']));
  await proxier.start();
  return { clock, services, slices, runner, proxier, syncs, errors };
}

test('start recreates the whole table; a burst of changes becomes one partial transaction; stop deletes the table', async () => {
  const { clock, services, slices, runner, proxier, syncs } = await setup();
  assert.equal(syncs.length, 1);
  assert.equal(syncs[0].kind, 'recreate');
  assert.match(runner.scripts[0], /^add table ip tinykube-proxy\ndelete table ip tinykube-proxy\n/);
  assert.match(runner.scripts[0], /add element ip tinykube-proxy endpoints-tcp-0 \{ 0 : 10\.244\.0\.5 \. 8080 \}/);

  // Within the min sync interval of the first sync: both changes wait and go together.
  slices.update(slice('web', ['10.244.0.5']), slice('web', ['10.244.0.5', '10.244.0.6']));
  services.add(svc('db', '10.43.0.20'));
  await settle();
  assert.equal(runner.scripts.length, 1, 'not before the min sync interval');
  clock.advance(10);
  await settle();
  assert.equal(syncs.length, 2);
  assert.equal(syncs[1].kind, 'partial');
  assert.equal(syncs[1].latenciesMs.length, 2);
  assert.doesNotMatch(runner.scripts[1], /table/);
  // The endpoint joins the service's slots of the endpoint map and, being on this node, the hairpin
  // set; one endpoint had capacity 1, so the DNAT rules are rewritten for two.
  assert.match(runner.scripts[1], /add element ip tinykube-proxy endpoints-tcp-0 \{ 1 : 10\.244\.0\.6 \. 8080 \}/);
  assert.match(runner.scripts[1], /add element ip tinykube-proxy hairpin-endpoints \{ 10\.244\.0\.6 \. 10\.244\.0\.6 \}/);
  assert.match(runner.scripts[1], /add rule ip tinykube-proxy service-default\/web\/tcp\/http meta l4proto tcp dnat ip to numgen random mod 2 offset 0 map @endpoints-tcp-0/);
  assert.match(runner.scripts[1], /add element ip tinykube-proxy no-endpoint-services \{ 10\.43\.0\.20 \. tcp \. 80 : goto reject-chain \}/);

  const stopped = await proxier.stop();
  assert.deepEqual(stopped, { ok: true });
  assert.equal(runner.scripts.at(-1), 'add table ip tinykube-proxy\ndelete table ip tinykube-proxy\n');
  services.delete(svc('db', '10.43.0.20'));
  clock.advance(60_000);
  await settle();
  assert.equal(runner.scripts.length, 3, 'no sync after stop');
});

test('a failed transaction is reported and retried as a recreate after a backoff, carrying the pending change', async () => {
  const { clock, slices, runner, syncs, errors, proxier } = await setup();
  runner.failNext = 1;
  clock.advance(10);
  slices.update(slice('web', ['10.244.0.5']), slice('web', ['10.244.0.7']));
  clock.advance(0);
  await settle();
  assert.equal(syncs.at(-1)!.ok, false);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].name, 'ProxyError');
  assert.match(errors[0].message, /partial sync failed: .*No such file/);
  clock.advance(999);
  await settle();
  assert.equal(syncs.length, 2, 'backing off');
  clock.advance(1);
  await settle();
  assert.equal(syncs.at(-1)!.kind, 'recreate');
  assert.equal(syncs.at(-1)!.ok, true);
  assert.match(runner.scripts.at(-1)!, /: 10\.244\.0\.7 \. 8080/);
  assert.doesNotMatch(runner.scripts.at(-1)!, /10\.244\.0\.5/);
  await proxier.stop();
});

test('the periodic full resync refreshes the table without deleting it; removed UDP endpoints are flushed from conntrack', async () => {
  const { clock, services, slices, runner, syncs, proxier } = await setup();
  const ports = [{ name: 'dns', port: 5353, protocol: 'UDP' }];
  const dns = svc('dns', '10.43.0.10', { ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] });
  services.add(dns);
  slices.add(slice('dns', ['10.244.0.8', '10.244.0.9'], ports));
  clock.advance(10);
  await settle();
  slices.update(slice('dns', ['10.244.0.8', '10.244.0.9'], ports), slice('dns', ['10.244.0.9'], ports));
  clock.advance(10);
  await settle();
  assert.deepEqual(runner.conntrack.filter((c) => c.replySrc), [{ origDst: '10.43.0.10', origPortDst: 53, replySrc: '10.244.0.8' }]);
  const before = syncs.length;
  clock.advance(FULL_SYNC_PERIOD_MS - 30);
  await settle();
  assert.equal(syncs.length, before, 'no refresh before the period is over');
  clock.advance(30);
  await settle();
  assert.equal(syncs.at(-1)!.kind, 'refresh');
  assert.match(runner.scripts.at(-1)!, /^add table ip tinykube-proxy\nflush table ip tinykube-proxy\n/);
  await proxier.stop();
});

test('health: changes are queued until a sync succeeds; health check ports get their local endpoint counts after successful syncs only', async () => {
  const clock = new FakeClock();
  const services = new PushSource<Service>();
  const slices = new PushSource<EndpointSlice>();
  const runner = new FakeRunner();
  const health = new ProxyHealth(clock);
  const checks: Array<{ checks: Record<string, HealthCheck | undefined>; full: boolean }> = [];
  const serviceHealth: ServiceHealthSync = { sync: (c, full) => void checks.push({ checks: Object.fromEntries(c), full }) };
  const proxier = new Proxier({ services, slices, runner, clock, health, serviceHealth, node: { name: 'node-a', addresses: [], podCIDR: '10.244.0.0/24' } });
  const lb = svc('lb', '10.43.0.11', { type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 32000, ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30080 }] });
  services.add(svc('web', '10.43.0.10'));
  services.add(lb);
  slices.add(slice('lb', ['10.244.0.5']));
  await proxier.start();
  assert.deepEqual(checks, [{ checks: { 'default/lb': { port: 32000, localEndpoints: 1, uid: undefined } }, full: true }]);

  // A failing partial sync: nothing reported; after the timeout with the change still pending, unhealthy.
  runner.failNext = 100;
  clock.advance(10);
  slices.update(slice('lb', ['10.244.0.5']), slice('lb', [{ ip: '10.244.0.5', ready: false }]));
  clock.advance(0);
  await settle();
  assert.equal(checks.length, 1);
  assert.equal(health.status().healthy, true);
  for (let t = 0; t < 60_000; t += 1000) {
    clock.advance(1000);
    await settle();
  }
  assert.equal(health.status().healthy, false);
  assert.equal(checks.length, 1);

  // The kernel takes it again (the retry is a recreate, a full sync): healthy, and the count drops to 0.
  runner.failNext = 0;
  clock.advance(30_000);
  await settle();
  assert.equal(health.status().healthy, true);
  assert.deepEqual(checks.at(-1), { checks: { 'default/lb': { port: 32000, localEndpoints: 0, uid: undefined } }, full: true });

  // A partial sync names the changed Services only, and a Service without a check as undefined.
  clock.advance(10);
  services.delete(lb);
  clock.advance(10);
  await settle();
  assert.deepEqual(checks.at(-1), { checks: { 'default/lb': undefined }, full: false });
  await proxier.stop();
});

test('health: a first sync that keeps failing turns the proxy unhealthy after the timeout', async () => {
  const clock = new FakeClock();
  const runner = new FakeRunner();
  runner.failNext = 1000;
  const health = new ProxyHealth(clock);
  const errors: Error[] = [];
  const proxier = new Proxier({ services: new PushSource<Service>(), slices: new PushSource<EndpointSlice>(), runner, clock, health, node: { name: 'node-a', addresses: [] }, onError: (e) => errors.push(e) });
  await proxier.start();
  assert.equal(errors.length, 1);
  assert.equal(health.status().healthy, true, 'not late yet');
  for (let t = 0; t < 60_000; t += 1000) {
    clock.advance(1000);
    await settle();
  }
  assert.equal(health.status().healthy, false);
  await proxier.stop();
});
