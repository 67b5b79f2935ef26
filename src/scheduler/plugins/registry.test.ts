import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Framework, ProfileError } from '../framework/framework.ts';
import { SchedulerCache } from '../framework/cache.ts';
import { defaultPlugins, registry } from './registry.ts';

test('the default profile builds from the registry, each plugin at its extension points, in order', () => {
  const fw = new Framework({ registry, plugins: defaultPlugins, nodes: new SchedulerCache() });
  const names = (ps: readonly { name: string }[]) => ps.map((p) => p.name);
  assert.deepEqual(names(fw.filterPlugins), ['NodeUnschedulable', 'NodeName', 'TaintToleration', 'NodeAffinity', 'NodePorts', 'NodeResourcesFit', 'VolumeBinding', 'PodTopologySpread', 'InterPodAffinity']);
  assert.deepEqual(names(fw.preFilterPlugins), ['NodeAffinity', 'NodePorts', 'VolumeRestrictions', 'VolumeBinding', 'PodTopologySpread', 'InterPodAffinity']);
  assert.deepEqual(names(fw.postFilterPlugins), ['DefaultPreemption']);
  assert.deepEqual(names(fw.scorePlugins), ['TaintToleration', 'NodeAffinity', 'NodeResourcesFit', 'PodTopologySpread', 'InterPodAffinity', 'NodeResourcesBalancedAllocation', 'ImageLocality']);
  assert.deepEqual(names(fw.reservePlugins), ['VolumeBinding']);
  assert.deepEqual(names(fw.preBindPlugins), ['VolumeBinding']);
  assert.deepEqual(names(fw.bindPlugins), ['DefaultBinder']);
  assert.deepEqual(names(fw.preFilterExtensions), ['PodTopologySpread', 'InterPodAffinity']);
  assert.equal(fw.weight('TaintToleration'), 3);
  assert.equal(fw.weight('ImageLocality'), 1);
});

test('unknown or duplicate plugins are profile errors', () => {
  const cases = [[{ name: 'Nope' }], [{ name: 'NodeName' }, { name: 'NodeName' }]];
  for (const plugins of cases) {
    assert.throws(() => new Framework({ registry, plugins, nodes: new SchedulerCache() }), (e: unknown) => e instanceof ProfileError && e.code === 'ERR_SCHEDULER_PROFILE');
  }
});
