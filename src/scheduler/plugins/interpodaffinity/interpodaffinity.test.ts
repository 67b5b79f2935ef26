import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PodAffinityTerm } from '../../../api/types.ts';
import { makeNode, makePod } from '../../../testing/objects.ts';
import type { PodBuilder } from '../../../testing/objects.ts';
import { filterAll, harness, scoreAll } from '../../testing/harness.ts';

const HOST = 'kubernetes.io/hostname';
const term = (labels: Record<string, string>, topologyKey = HOST, extra: Partial<PodAffinityTerm> = {}): PodAffinityTerm => ({ labelSelector: { matchLabels: labels }, topologyKey, ...extra });
const nodes = () => [makeNode('a').labels({ zone: 'z1' }).build(), makeNode('b').labels({ zone: 'z1' }).build(), makeNode('c').labels({ zone: 'z2' }).build()];
const AFF = "UnschedulableAndUnresolvable: node(s) didn't match pod affinity rules";
const ANTI = "Unschedulable: node(s) didn't match pod anti-affinity rules";
const EXISTING = "Unschedulable: node(s) didn't satisfy existing pods anti-affinity rules";

test('InterPodAffinity filter: required affinity and anti-affinity', () => {
  const existing = [
    makePod('cache').labels({ app: 'cache' }).onNode('a').build(),
    makePod('loner').labels({ app: 'loner' }).podAffinity('anti', [term({ app: 'web' })]).onNode('b').build(),
    makePod('otherns', 'other').labels({ app: 'cache' }).onNode('c').build(),
  ];
  const cases: Array<{ name: string; pod: PodBuilder; want: Record<string, string> }> = [
    { name: 'no terms: only existing anti-affinity applies (web is not targeted)', pod: makePod('p').labels({ app: 'db' }), want: { a: 'ok', b: 'ok', c: 'ok' } },
    { name: 'existing pod anti-affinity keeps web off b', pod: makePod('p').labels({ app: 'web' }), want: { a: 'ok', b: EXISTING, c: 'ok' } },
    { name: 'affinity to cache on the same host', pod: makePod('p').podAffinity('affinity', [term({ app: 'cache' })]), want: { a: 'ok', b: AFF, c: AFF } },
    { name: 'affinity to cache in the same zone', pod: makePod('p').podAffinity('affinity', [term({ app: 'cache' }, 'zone')]), want: { a: 'ok', b: 'ok', c: AFF } },
    { name: 'affinity across namespaces', pod: makePod('p').podAffinity('affinity', [term({ app: 'cache' }, HOST, { namespaces: ['other'] })]), want: { a: AFF, b: AFF, c: 'ok' } },
    { name: 'anti-affinity to cache', pod: makePod('p').podAffinity('anti', [term({ app: 'cache' })]), want: { a: ANTI, b: 'ok', c: 'ok' } },
    { name: 'anti-affinity by zone', pod: makePod('p').podAffinity('anti', [term({ app: 'cache' }, 'zone')]), want: { a: ANTI, b: ANTI, c: 'ok' } },
    { name: 'first pod of a self-affine group may go anywhere', pod: makePod('p').labels({ app: 'new' }).podAffinity('affinity', [term({ app: 'new' })]), want: { a: 'ok', b: 'ok', c: 'ok' } },
    { name: 'affinity to pods that do not exist and not to itself', pod: makePod('p').labels({ app: 'x' }).podAffinity('affinity', [term({ app: 'ghost' })]), want: { a: AFF, b: AFF, c: AFF } },
  ];
  for (const c of cases) {
    const h = harness(['InterPodAffinity'], nodes(), existing);
    assert.deepEqual(filterAll(h, c.pod.build()), c.want, c.name);
  }
});

test('InterPodAffinity score: preferred terms both ways and existing required affinity', () => {
  const existing = [makePod('cache').labels({ app: 'cache' }).onNode('a').build(), makePod('noisy').labels({ app: 'noisy' }).onNode('c').build()];
  const h = harness(['InterPodAffinity'], nodes(), existing);
  const pod = makePod('p').podAffinity('affinity', [], [{ weight: 10, podAffinityTerm: term({ app: 'cache' }) }]);
  assert.deepEqual(scoreAll(h, pod.build()), { a: 100, b: 0, c: 0 });
  const anti = makePod('q').podAffinity('anti', [], [{ weight: 5, podAffinityTerm: term({ app: 'noisy' }, 'zone') }]);
  assert.deepEqual(scoreAll(h, anti.build()), { a: 100, b: 100, c: 0 });
  // An existing pod that prefers pods like this one attracts it.
  const h2 = harness(['InterPodAffinity'], nodes(), [makePod('fan').podAffinity('affinity', [], [{ weight: 7, podAffinityTerm: term({ app: 'star' }) }]).onNode('b').build()]);
  assert.deepEqual(scoreAll(h2, makePod('star').labels({ app: 'star' }).build()), { a: 0, b: 100, c: 0 });
});
