import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject, PersistentVolume } from '../../../api/types.ts';
import { makePod } from '../../../testing/objects.ts';
import type { ListOutput, StoreWatchEvent, WatchParams } from '../../../registry/store.ts';
import { FakeClock } from '../../../util/clock.ts';
import { StatusError } from '../../../util/status.ts';
import { NodeGraph } from './graph.ts';
import { GraphPopulator, type WatchableStore } from './populator.ts';

/** A store holding a fixed list; the test drives its one watch. */
class FakeStore implements WatchableStore {
  items: KubeObject[] = [];
  lists = 0;
  watch_: WatchParams | undefined;
  closed = 0;
  async list(): Promise<ListOutput> {
    this.lists++;
    return { items: structuredClone(this.items), resourceVersion: String(this.lists) };
  }
  async watch(p: WatchParams) {
    this.watch_ = p;
    return { close: () => void this.closed++, lastRevision: () => 0 };
  }
  emit(ev: StoreWatchEvent): void {
    this.watch_!.onEvent(ev);
  }
}

const withSecret = (name: string, node: string, secret: string) =>
  makePod(name, 'default').onNode(node).with((p) => (p.spec!.volumes = [{ name: 's', secret: { secretName: secret } }])).build();

test('populator: list, then watch events; a watch that ends is followed by a fresh list', async () => {
  const clock = new FakeClock(0);
  const pods = new FakeStore();
  const pvs = new FakeStore();
  pods.items = [withSecret('p1', 'a', 's1')];
  const pv: PersistentVolume = { metadata: { name: 'v' }, spec: { claimRef: { namespace: 'default', name: 'c' } } };
  pvs.items = [pv];
  const graph = new NodeGraph();
  const pop = new GraphPopulator(graph, { pods, persistentVolumes: pvs }, clock);
  await pop.start();
  assert.equal(graph.related('a', 'secret', 'default', 's1'), true);

  pods.emit({ type: 'ADDED', object: withSecret('p2', 'a', 's2') });
  assert.equal(graph.related('a', 'secret', 'default', 's2'), true);
  pods.emit({ type: 'DELETED', object: withSecret('p1', 'a', 's1') });
  assert.equal(graph.related('a', 'secret', 'default', 's1'), false);

  // The watch ends (a compacted revision): after a second the graph is rebuilt from a new list.
  pods.items = [withSecret('p3', 'a', 's3')];
  pods.watch_!.onError(new StatusError(410, 'Expired', 'too old resource version'));
  assert.equal(pods.closed + pvs.closed, 2, 'both watches closed');
  clock.advance(1000);
  // The fake stores answer at once: the re-list completes within the microtasks before this.
  await new Promise((r) => setImmediate(r));
  assert.equal(pods.lists, 2);
  assert.equal(graph.related('a', 'secret', 'default', 's3'), true);
  assert.equal(graph.related('a', 'secret', 'default', 's2'), false, 'what the old watch knew is gone');

  pop.stop();
  assert.equal(pods.closed + pvs.closed, 4);
});
