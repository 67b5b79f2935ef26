import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { builtinKinds } from '../registry/kinds.ts';
import { aggregatedDiscovery, apiResourceList, negotiateAggregated, storageVersionHash } from './discovery.ts';

describe('storageVersionHash', () => {
  // Values a kube-apiserver 1.32 publishes in /api/v1 and /apis/coordination.k8s.io/v1.
  const cases: Array<[string, string, string, string]> = [
    ['', 'v1', 'Pod', 'xPOwRZ+Yhw8='],
    ['', 'v1', 'Event', 'r2yiGXH7wu8='],
    ['', 'v1', 'ConfigMap', 'qFsyl6wFWjQ='],
    ['', 'v1', 'Namespace', 'Q3oi5N2YM8M='],
    ['coordination.k8s.io', 'v1', 'Lease', 'gqkMMb/YqFM='],
  ];
  for (const [g, v, k, want] of cases) it(`${g}/${v}/${k}`, () => assert.equal(storageVersionHash(g, v, k), want));

  it('is on main resources only, and events.k8s.io events carry the core events hash (shared storage)', () => {
    const core = apiResourceList(builtinKinds, '', 'v1')!.resources;
    assert.equal(core.find((r) => r.name === 'pods')?.storageVersionHash, 'xPOwRZ+Yhw8=');
    assert.ok(core.filter((r) => String(r.name).includes('/')).every((r) => r.storageVersionHash === undefined));
    const ev = apiResourceList(builtinKinds, 'events.k8s.io', 'v1')!.resources.find((r) => r.name === 'events');
    assert.equal(ev?.storageVersionHash, 'r2yiGXH7wu8=');
    // A review computed per request is never stored.
    const review = apiResourceList(builtinKinds, 'authentication.k8s.io', 'v1')!.resources.find((r) => r.name === 'selfsubjectreviews');
    assert.ok(review && review.storageVersionHash === undefined);
  });
});

describe('aggregated discovery negotiation', () => {
  const agg = (v: string) => `application/json;g=apidiscovery.k8s.io;v=${v};as=APIGroupDiscoveryList`;
  const cases: Array<[string, string | undefined, string | undefined]> = [
    ['kubectl 1.32', `${agg('v2')},${agg('v2beta1')},application/json`, 'v2'],
    ['v2beta1 only', `${agg('v2beta1')},application/json`, 'v2beta1'],
    ['parameters in another order', 'application/json;as=APIGroupDiscoveryList;v=v2;g=apidiscovery.k8s.io', 'v2'],
    ['an unknown version first', `${agg('v3')},${agg('v2')}`, 'v2'],
    ['plain JSON first', `application/json,${agg('v2')}`, undefined],
    ['legacy client', 'application/json, */*', undefined],
    ['no Accept', undefined, undefined],
  ];
  for (const [name, accept, want] of cases) it(name, () => assert.equal(negotiateAggregated(accept), want));

  it('answers in the version asked for', () => {
    assert.equal(aggregatedDiscovery(builtinKinds, true, 'v2beta1').apiVersion, 'apidiscovery.k8s.io/v2beta1');
    assert.equal(aggregatedDiscovery(builtinKinds, false).apiVersion, 'apidiscovery.k8s.io/v2');
  });
});
