import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterRole } from '../../api/rbac/types.ts';
import { aggregatedRules } from './controller.ts';

const cr = (name: string, labels: Record<string, string>, rules: ClusterRole['rules']): ClusterRole => ({ metadata: { name, labels }, rules });
const get = (res: string) => ({ verbs: ['get'], apiGroups: [''], resources: [res] });

test('aggregation: union of matched roles by selector then name, each rule once, never the role itself', () => {
  const agg: ClusterRole = { metadata: { name: 'agg', labels: { a: 'true' } }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { a: 'true' } }, { matchLabels: { b: 'true' } }] }, rules: [get('stale')] };
  const all = [agg, cr('z', { a: 'true' }, [get('pods')]), cr('m', { a: 'true' }, [get('secrets'), get('pods')]), cr('b-only', { b: 'true' }, [get('nodes')]), cr('none', {}, [get('x')])];
  assert.deepEqual(aggregatedRules(agg, all), [get('secrets'), get('pods'), get('nodes')]);
  assert.deepEqual(aggregatedRules({ ...agg, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { c: 'true' } }] } }, all), []);
});
