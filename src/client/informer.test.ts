import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../util/clock.ts';
import { ApiClient } from './client.ts';
import { ApiError } from './errors.ts';
import { Informer, listWatch } from './informer.ts';
import type { EventHandler } from './informer.ts';
import { Pods } from './resources.ts';
import { FakeApiServer } from './testing/fake-apiserver.ts';
import type { FakeObject } from './testing/fake-apiserver.ts';
import { until } from '../testing/until.ts';

/** Records handler calls as short strings and lets a test await the n-th one. */
class Recorder {
  readonly events: string[] = [];
  #waiters: Array<{ n: number; resolve: () => void }> = [];
  readonly handler: EventHandler<FakeObject> = {
    onAdd: (o) => this.#push(`add ${o.metadata.name}`),
    onUpdate: (a, b) => this.#push(`update ${b.metadata.name} ${a.metadata.resourceVersion}->${b.metadata.resourceVersion}`),
    onDelete: (o) => this.#push(`delete ${o.metadata.name}`),
  };
  #push(e: string): void {
    this.events.push(e);
    this.#waiters = this.#waiters.filter((w) => (this.events.length >= w.n ? (w.resolve(), false) : true));
  }
  /** Resolves once `n` events in total were recorded. */
  waitFor(n: number): Promise<void> {
    if (this.events.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ n, resolve }));
  }
  take(): string[] {
    return this.events.splice(0);
  }
}

interface Harness {
  srv: FakeApiServer;
  clock: FakeClock;
  inf: Informer<FakeObject>;
  rec: Recorder;
  errors: unknown[];
}

async function setup(t: TestContext, names: string[], options: { pageSize?: number; indexers?: Record<string, (o: FakeObject) => string[]> } = {}): Promise<Harness> {
  const srv = new FakeApiServer();
  await srv.start();
  for (const n of names) srv.put(n);
  const client = new ApiClient({ server: srv.url });
  const clock = new FakeClock();
  const errors: unknown[] = [];
  const inf = new Informer<FakeObject>(listWatch<FakeObject>(client, Pods, 'default'), {
    clock,
    pageSize: options.pageSize,
    indexers: options.indexers,
    random: () => 0,
    onError: (e) => errors.push(e),
  });
  const rec = new Recorder();
  inf.addEventHandler(rec.handler);
  t.after(async () => {
    await inf.stop();
    client.close();
    await srv.stop();
  });
  return { srv, clock, inf, rec, errors };
}

async function startAndSync(h: Harness): Promise<void> {
  h.inf.start();
  await h.inf.waitForSync();
  await h.srv.waitForWatches(1);
}

test('informer: paginated list, then a watch from the list resourceVersion', async (t) => {
  const h = await setup(t, ['p1', 'p2', 'p3', 'p4', 'p5'], { pageSize: 2 });
  assert.equal(h.inf.hasSynced(), false);
  await startAndSync(h);
  assert.equal(h.inf.hasSynced(), true);
  assert.deepEqual(h.rec.take(), ['add p1', 'add p2', 'add p3', 'add p4', 'add p5']);
  assert.equal(h.inf.store.size, 5);
  assert.equal(h.inf.store.get('default', 'p3')?.metadata.resourceVersion, '103');
  const lists = h.srv.requests.filter((r) => r.kind === 'list').map((r) => r.query);
  assert.deepEqual(lists, [{ limit: '2' }, { limit: '2', continue: '105:2' }, { limit: '2', continue: '105:4' }]);
  const watch = h.srv.requests.find((r) => r.kind === 'watch')!.query;
  assert.equal(watch.resourceVersion, '105');
  assert.equal(watch.allowWatchBookmarks, 'true');
  assert.equal(watch.timeoutSeconds, '300');
  assert.equal(h.inf.lastSyncResourceVersion, '105');
});

test('informer: watch events update the cache and reach handlers in order', async (t) => {
  const h = await setup(t, ['a', 'b']);
  await startAndSync(h);
  h.rec.take();
  h.srv.put('c', { spec: { nodeName: 'n1' } });
  h.srv.put('a', { spec: { nodeName: 'n2' } });
  h.srv.remove('b');
  await h.rec.waitFor(3);
  assert.deepEqual(h.rec.take(), ['add c', 'update a 101->104', 'delete b']);
  assert.deepEqual(h.inf.store.list().map((o) => o.metadata.name).sort(), ['a', 'c']);
  assert.deepEqual(h.inf.store.get('default', 'a')?.spec, { nodeName: 'n2' });
  assert.equal(h.inf.lastSyncResourceVersion, '105');
  h.srv.bookmark(); // no object changed, but the version moves on
  h.srv.put('d');
  await h.rec.waitFor(1);
  assert.equal(h.inf.lastSyncResourceVersion, '106');
  assert.deepEqual(h.errors, []);
});

test('informer: a 410 ERROR event re-lists and diffs against the cache', async (t) => {
  const h = await setup(t, ['keep', 'gone', 'changed']);
  await startAndSync(h);
  h.rec.take();
  // Changes the informer's watch never sees, then the server expires the watch.
  h.srv.remove('gone', { silent: true });
  h.srv.put('changed', {}, { silent: true });
  h.srv.put('new', {}, { silent: true });
  h.srv.compact();
  h.srv.expireWatches();
  await h.rec.waitFor(3);
  assert.deepEqual(h.rec.take(), ['delete gone', 'update changed 103->105', 'add new']);
  assert.equal(h.srv.count('list'), 2);
  await h.srv.waitForWatches(1);
  const watches = h.srv.requests.filter((r) => r.kind === 'watch');
  assert.equal(watches.at(-1)!.query.resourceVersion, '106');
  assert.deepEqual(h.errors, [], '410 is expected and not reported as an error');
});

test('informer: a dropped watch backs off on the clock, then re-watches from the last version without a re-list', async (t) => {
  const h = await setup(t, ['a']);
  await startAndSync(h);
  h.rec.take();
  h.srv.put('b');
  await h.rec.waitFor(1);
  h.rec.take();
  h.srv.dropWatches();
  h.srv.put('c'); // missed while disconnected, replayed from history on re-watch
  await until('the backoff timer', () => h.errors.length === 1 && h.clock.pendingTimers() === 1, { intervalMs: 0 });
  assert.equal(h.srv.count('watch'), 1, 'no re-watch before the backoff elapsed');
  h.clock.advance(799);
  await new Promise((r) => setImmediate(r));
  assert.equal(h.srv.count('watch'), 1);
  h.clock.advance(1);
  await h.srv.waitForWatches(1);
  await h.rec.waitFor(1);
  assert.deepEqual(h.rec.take(), ['add c']);
  assert.equal(h.srv.count('list'), 1);
  assert.equal(h.srv.requests.filter((r) => r.kind === 'watch').at(-1)!.query.resourceVersion, '102');
});

test('informer: re-watch after a drop gets 410 when history was compacted, and re-lists', async (t) => {
  const h = await setup(t, ['a', 'b']);
  await startAndSync(h);
  h.rec.take();
  h.srv.dropWatches();
  h.srv.remove('a');
  h.srv.compact();
  await until('the backoff timer', () => h.clock.pendingTimers() === 1, { intervalMs: 0 });
  h.clock.advance(800);
  await h.rec.waitFor(1);
  assert.deepEqual(h.rec.take(), ['delete a']);
  assert.equal(h.srv.count('list'), 2);
  assert.deepEqual(h.inf.store.list().map((o) => o.metadata.name), ['b']);
});

test('informer: a failing list is retried with growing backoff; not synced until it succeeds', async (t) => {
  const h = await setup(t, ['a']);
  h.srv.failNext(500);
  h.srv.failNext(503);
  h.inf.start();
  await until('first backoff', () => h.errors.length === 1 && h.clock.pendingTimers() === 1, { intervalMs: 0 });
  assert.ok(h.errors[0] instanceof ApiError && h.errors[0].code === 500);
  assert.equal(h.inf.hasSynced(), false);
  h.clock.advance(800);
  await until('second backoff', () => h.errors.length === 2 && h.clock.pendingTimers() === 1, { intervalMs: 0 });
  h.clock.advance(1599);
  await new Promise((r) => setImmediate(r));
  assert.equal(h.srv.count('list'), 2, 'second delay is doubled');
  h.clock.advance(1);
  await h.inf.waitForSync();
  assert.deepEqual(h.rec.take(), ['add a']);
});

test('informer: a watch the server ends cleanly is resumed at once; an empty one only after a backoff', async (t) => {
  const h = await setup(t, ['a']);
  await startAndSync(h);
  h.srv.put('b');
  await h.rec.waitFor(2);
  h.srv.endWatches();
  await h.srv.waitForWatches(1);
  assert.equal(h.srv.count('watch'), 2);
  assert.equal(h.clock.pendingTimers(), 0);
  h.srv.endWatches(); // this watch delivered nothing
  await until('idle backoff', () => h.clock.pendingTimers() === 1, { intervalMs: 0 });
  h.clock.advance(800);
  await h.srv.waitForWatches(1);
  assert.equal(h.srv.count('watch'), 3);
  assert.equal(h.srv.count('list'), 1);
});

test('informer: late handlers get the cache as adds; indexes follow changes; throwing handlers are contained', async (t) => {
  const nodeOf = (o: FakeObject): string[] => {
    const spec = o.spec as { nodeName?: string } | undefined;
    return spec?.nodeName ? [spec.nodeName] : [];
  };
  const h = await setup(t, [], { indexers: { node: nodeOf } });
  h.srv.put('p1', { spec: { nodeName: 'n1' } });
  h.srv.put('p2', { spec: { nodeName: 'n1' } });
  h.srv.put('p3', {});
  h.inf.addEventHandler({ onAdd: () => { throw new Error('handler bug'); } });
  await startAndSync(h);
  assert.equal(h.errors.length, 3);
  const late = new Recorder();
  h.inf.addEventHandler(late.handler);
  assert.deepEqual(late.take().sort(), ['add p1', 'add p2', 'add p3']);
  assert.deepEqual(h.inf.store.byIndex('node', 'n1').map((o) => o.metadata.name).sort(), ['p1', 'p2']);
  h.srv.put('p2', { spec: { nodeName: 'n2' } });
  h.srv.remove('p1');
  await late.waitFor(2);
  assert.deepEqual(h.inf.store.byIndex('node', 'n1'), []);
  assert.deepEqual(h.inf.store.byIndex('node', 'n2').map((o) => o.metadata.name), ['p2']);
});

test('informer: stop closes the watch and ends the loop; the cache stays readable', async (t) => {
  const h = await setup(t, ['a']);
  await startAndSync(h);
  await h.inf.stop();
  await until('the server to see the watch close', () => h.srv.openWatches === 0, { intervalMs: 0 });
  assert.equal(h.inf.store.size, 1);
  h.srv.put('b');
  await new Promise((r) => setImmediate(r));
  assert.equal(h.inf.store.size, 1);
  assert.equal(h.clock.pendingTimers(), 0);
});
