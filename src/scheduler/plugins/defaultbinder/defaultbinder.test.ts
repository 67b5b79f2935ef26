import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CycleState } from '../../framework/cycle-state.ts';
import { Framework } from '../../framework/framework.ts';
import { SchedulerCache } from '../../framework/cache.ts';
import { newPodInfo } from '../../framework/pod-info.ts';
import { makePod } from '../../../testing/objects.ts';
import { registry } from '../registry.ts';

test('DefaultBinder binds through the handle and turns failures into Error statuses', async () => {
  const cases: Array<{ name: string; bind?: () => Promise<void>; code: string; reason?: string }> = [
    { name: 'success', bind: async () => {}, code: 'Success' },
    { name: 'API failure', bind: async () => Promise.reject(new Error('connection refused')), code: 'Error', reason: 'connection refused' },
    { name: 'no binder', code: 'Error', reason: 'no API binder configured' },
  ];
  for (const c of cases) {
    const calls: string[] = [];
    const fw = new Framework({
      registry,
      plugins: [{ name: 'DefaultBinder' }],
      nodes: new SchedulerCache(),
      bindPod: c.bind && (async (p, node) => {
        calls.push(`${p.key}→${node}`);
        await c.bind!();
      }),
    });
    const s = await fw.runBindPlugins(new CycleState(), newPodInfo(makePod('p').build()), 'n1');
    assert.equal(s.code, c.code, c.name);
    assert.equal(s.plugin, 'DefaultBinder');
    if (c.reason) assert.equal(s.reasons[0], c.reason, c.name);
    if (c.bind) assert.deepEqual(calls, ['default/p→n1']);
  }
});
