import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createNetServer } from 'node:net';
import type { Server as NetServer } from 'node:net';
import { FakeClock } from '../util/clock.ts';
import { goTimeString, HEALTH_TIMEOUT_MS, ProxyHealth, ProxyHealthzServer, serviceHealthBody, ServiceHealthServer } from './health.ts';
import type { HealthEvents, ServiceRef } from './health.ts';

/** A port free on 127.0.0.1 right now, and a server holding one. */
async function hold(): Promise<{ port: number; server: NetServer }> {
  const server = createNetServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  assert.ok(a && typeof a === 'object');
  return { port: a.port, server };
}

async function freePort(): Promise<number> {
  const { port, server } = await hold();
  await new Promise((r) => server.close(r));
  return port;
}

async function get(port: number, path = '/', method = 'GET'): Promise<{ status: number; headers: Headers; body: string } | 'refused'> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers: { connection: 'close' } });
    return { status: r.status, headers: r.headers, body: await r.text() };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    if (cause?.code === 'ECONNREFUSED') return 'refused';
    throw err;
  }
}

class Events implements HealthEvents {
  readonly said: Array<{ svc: ServiceRef; reason: string; message: string }> = [];
  serviceWarning(svc: ServiceRef, reason: string, message: string): void {
    this.said.push({ svc: { ...svc }, reason, message });
  }
}

test('ProxyHealth: healthy while starting and synced; unhealthy once a change waits the timeout for a sync', async (t) => {
  const cases: Array<{ name: string; steps: Array<'queued' | 'updated' | number>; healthy: boolean }> = [
    { name: 'starting, nothing synced yet', steps: ['queued', HEALTH_TIMEOUT_MS * 2], healthy: true },
    { name: 'synced, nothing queued', steps: ['updated', HEALTH_TIMEOUT_MS * 2], healthy: true },
    { name: 'a change pending less than the timeout', steps: ['updated', 'queued', HEALTH_TIMEOUT_MS - 1], healthy: true },
    { name: 'a change pending the timeout', steps: ['updated', 'queued', HEALTH_TIMEOUT_MS], healthy: false },
    { name: 'the oldest pending change counts', steps: ['updated', 'queued', 40_000, 'queued', 20_000], healthy: false },
    { name: 'a sync clears it', steps: ['updated', 'queued', HEALTH_TIMEOUT_MS, 'updated'], healthy: true },
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      const clock = new FakeClock();
      const h = new ProxyHealth(clock);
      for (const s of c.steps) {
        if (s === 'queued') h.queued();
        else if (s === 'updated') h.updated();
        else clock.advance(s);
      }
      assert.equal(h.status().healthy, c.healthy);
    });
  }
});

test('serviceHealthBody is kube-proxy\'s dedented document', () => {
  assert.equal(
    serviceHealthBody('default', 'web', 2, true),
    '{\n\t"service": {\n\t\t"namespace": "default",\n\t\t"name": "web"\n\t},\n\t"localEndpoints": 2,\n\t"serviceProxyHealthy": true\n}',
  );
});

test('goTimeString prints as Go\'s time.Time.String() in UTC', async (t) => {
  const cases: Array<[string, number | undefined, boolean, RegExp | string]> = [
    ['the zero time', undefined, true, '0001-01-01 00:00:00 +0000 UTC'],
    ['whole seconds: no fraction', Date.UTC(2026, 0, 2, 3, 4, 5), false, '2026-01-02 03:04:05 +0000 UTC'],
    ['trailing zeros trimmed', Date.UTC(2026, 0, 2, 3, 4, 5, 120), false, '2026-01-02 03:04:05.12 +0000 UTC'],
    ['with the monotonic reading', Date.UTC(2026, 0, 2, 3, 4, 5, 7), true, /^2026-01-02 03:04:05\.007 \+0000 UTC m=[+-]\d+\.\d{9}$/],
  ];
  for (const [name, ms, mono, want] of cases) {
    await t.test(name, () => (typeof want === 'string' ? assert.equal(goTimeString(ms, mono), want) : assert.match(goTimeString(ms, mono), want)));
  }
});

test('ServiceHealthServer: 200 with a local endpoint, 503 without one or with the proxy unhealthy; ports open and close with the Services', async () => {
  const clock = new FakeClock();
  const health = new ProxyHealth(clock);
  health.updated();
  const events = new Events();
  const hs = new ServiceHealthServer({ nodeName: 'node-a', health, host: '127.0.0.1', clock, events });
  const [p1, p2] = [await freePort(), await freePort()];
  try {
    hs.sync(new Map([['default/web', { port: p1, localEndpoints: 1, uid: 'u1' }], ['other/db', { port: p2, localEndpoints: 0 }]]), true);
    await hs.idle();
    const ok = await get(p1);
    assert.notEqual(ok, 'refused');
    if (ok === 'refused') return;
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('content-type'), 'application/json');
    assert.equal(ok.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(ok.body, serviceHealthBody('default', 'web', 1, true));
    // Any method and path: kube-proxy's handler answers them all alike.
    assert.equal((await get(p1, '/some/path', 'HEAD')) !== 'refused' && 200, 200);
    const none = await get(p2);
    assert.ok(none !== 'refused' && none.status === 503 && none.body === serviceHealthBody('other', 'db', 0, true));

    // The endpoint goes unready (a partial sync of that Service): 503 on the same listener.
    hs.sync(new Map([['default/web', { port: p1, localEndpoints: 0, uid: 'u1' }]]), false);
    const gone = await get(p1);
    assert.ok(gone !== 'refused' && gone.status === 503, 'no local endpoint');

    // The proxy cannot program the kernel for the timeout: 503 and serviceProxyHealthy false.
    hs.sync(new Map([['default/web', { port: p1, localEndpoints: 3, uid: 'u1' }]]), false);
    health.queued();
    clock.advance(HEALTH_TIMEOUT_MS);
    const sick = await get(p1);
    assert.ok(sick !== 'refused' && sick.status === 503 && sick.body === serviceHealthBody('default', 'web', 3, false), 'proxy unhealthy');
    health.updated();

    // A full sync without other/db closes its port; a Service whose check goes away closes its own.
    hs.sync(new Map([['default/web', { port: p1, localEndpoints: 3, uid: 'u1' }]]), true);
    await hs.idle();
    assert.equal(await get(p2), 'refused');
    hs.sync(new Map([['default/web', undefined]]), false);
    await hs.idle();
    assert.deepEqual(hs.listening(), new Map());
    assert.deepEqual(events.said, []);
  } finally {
    await hs.stop();
  }
});

test('ServiceHealthServer: a port taken is reported once (FailedToStartServiceHealthcheck) and retried with backoff until it binds', async () => {
  const clock = new FakeClock();
  const health = new ProxyHealth(clock);
  const events = new Events();
  const errors: Error[] = [];
  const hs = new ServiceHealthServer({ nodeName: 'node-a', health, host: '127.0.0.1', clock, events, onError: (e) => errors.push(e) });
  const taken = await hold();
  try {
    hs.sync(new Map([['default/web', { port: taken.port, localEndpoints: 1, uid: 'u1' }]]), true);
    await hs.idle();
    const message = `node node-a failed to start healthcheck "default/web" on port ${taken.port}: listen tcp 127.0.0.1:${taken.port}: bind: address already in use`;
    assert.deepEqual(events.said, [{ svc: { namespace: 'default', name: 'web', uid: 'u1' }, reason: 'FailedToStartServiceHealthcheck', message }]);
    assert.deepEqual(errors.map((e) => e.message), [message]);
    // Retries at 1 s, then 2 s: still taken, nothing said again.
    clock.advance(1000);
    await hs.idle();
    clock.advance(1999);
    await hs.idle();
    assert.deepEqual(hs.listening(), new Map());
    clock.advance(1);
    await hs.idle();
    assert.equal(events.said.length, 1);
    // Freed: the next retry (4 s later) binds.
    await new Promise((r) => taken.server.close(r));
    clock.advance(4000);
    await hs.idle();
    assert.deepEqual(hs.listening(), new Map([['default/web', taken.port]]));
    const ok = await get(taken.port);
    assert.ok(ok !== 'refused' && ok.status === 200);
    assert.equal(events.said.length, 1);
  } finally {
    if (taken.server.listening) taken.server.close();
    await hs.stop();
  }
});

test('ProxyHealthzServer: /healthz and /livez as kube-proxy, 503 when unhealthy, 404 elsewhere; a taken address is reported once', async () => {
  const clock = new FakeClock();
  const health = new ProxyHealth(clock);
  health.updated();
  const errors: Error[] = [];
  const hz = new ProxyHealthzServer({ health, address: '127.0.0.1:0', onError: (e) => errors.push(e) });
  assert.equal(await hz.start(), true);
  const port = hz.port!;
  try {
    const healthz = await get(port, '/healthz');
    assert.ok(healthz !== 'refused');
    assert.equal(healthz.status, 200);
    assert.equal(healthz.headers.get('content-type'), 'application/json');
    const now = goTimeString(clock.now()).replace(/ m=.*/, '').replace(/[+.]/g, '\\$&');
    assert.match(healthz.body, new RegExp(`^\\{"lastUpdated": "${now} m=[+-][\\d.]+","currentTime": "${now} m=[+-][\\d.]+", "nodeEligible": true\\}$`));
    const livez = await get(port, '/livez');
    assert.ok(livez !== 'refused' && livez.status === 200 && !livez.body.includes('nodeEligible'));
    const missing = await get(port, '/metrics');
    assert.ok(missing !== 'refused' && missing.status === 404 && missing.body === '404 page not found\n');

    const synced = clock.now();
    health.queued();
    clock.advance(HEALTH_TIMEOUT_MS);
    const sick = await get(port, '/healthz');
    assert.ok(sick !== 'refused' && sick.status === 503);
    assert.ok(sick.body.startsWith(`{"lastUpdated": "${goTimeString(synced).replace(/ m=.*/, '')} m=`), sick.body);

    const second = new ProxyHealthzServer({ health, address: `127.0.0.1:${port}`, onError: (e) => errors.push(e) });
    assert.equal(await second.start(), false);
    await second.stop();
    assert.deepEqual(errors.map((e) => e.message), [`failed to start proxy healthz on 127.0.0.1:${port}: listen tcp 127.0.0.1:${port}: bind: address already in use (retrying every 5 s)`]);
  } finally {
    await hz.stop();
  }
  assert.equal(await get(port, '/healthz'), 'refused');
});
