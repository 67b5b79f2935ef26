import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Container, Pod } from '../../api/types.ts';
import { containerResourceValue, findContainer, formatMap, podMetadataField, type Allocatable } from './values.ts';

const pod: Pod = {
  metadata: {
    name: 'web-0',
    namespace: 'shop',
    uid: 'u-1',
    labels: { tier: 'front', app: 'web' },
    annotations: { 'note.example/text': 'say "hi"\nbye', empty: '' },
  },
  spec: { containers: [{ name: 'app' }], initContainers: [{ name: 'init' }] },
};

describe('podMetadataField', () => {
  const cases: { path: string; want: string | RegExp }[] = [
    { path: 'metadata.name', want: 'web-0' },
    { path: 'metadata.namespace', want: 'shop' },
    { path: 'metadata.uid', want: 'u-1' },
    // FormatMap: sorted keys, values as Go's %q.
    { path: 'metadata.labels', want: 'app="web"\ntier="front"' },
    { path: 'metadata.annotations', want: 'empty=""\nnote.example/text="say \\"hi\\"\\nbye"' },
    { path: "metadata.labels['tier']", want: 'front' },
    { path: "metadata.labels['absent']", want: '' },
    { path: "metadata.annotations['note.example/text']", want: 'say "hi"\nbye' },
    { path: 'spec.nodeName', want: /^unsupported fieldPath: spec\.nodeName$/ },
  ];
  for (const c of cases) {
    it(c.path, () => {
      const r = podMetadataField(pod, c.path);
      if (typeof c.want === 'string') assert.deepEqual(r, { ok: true, value: c.want });
      else assert.ok(!r.ok && c.want.test(r.message), JSON.stringify(r));
    });
  }

  it('formats an absent map as an empty file', () => {
    assert.equal(formatMap(undefined), '');
    assert.equal(formatMap({ b: 'tab\there', a: 'é' }), 'a="é"\nb="tab\\there"');
  });
});

describe('containerResourceValue', () => {
  const alloc: Allocatable = { cpuMilli: 4000, memoryBytes: 8 * 2 ** 30, ephemeralStorageBytes: 50 * 2 ** 30 };
  const c: Container = { name: 'app', resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '250m', memory: '64Mi', 'ephemeral-storage': '1Gi' } } };
  const bare: Container = { name: 'bare' };
  const cases: { name: string; container: Container; resource: string; divisor?: string; want: string | RegExp }[] = [
    { name: 'cpu limit in cores rounds up', container: c, resource: 'limits.cpu', want: '1' },
    { name: 'cpu limit in millicores', container: c, resource: 'limits.cpu', divisor: '1m', want: '500' },
    { name: 'cpu request', container: c, resource: 'requests.cpu', divisor: '1m', want: '250' },
    { name: 'memory limit in bytes', container: c, resource: 'limits.memory', want: String(128 * 2 ** 20) },
    { name: 'memory limit in Mi', container: c, resource: 'limits.memory', divisor: '1Mi', want: '128' },
    { name: 'memory request in M rounds up', container: c, resource: 'requests.memory', divisor: '1M', want: '68' },
    { name: 'ephemeral-storage request in Gi', container: c, resource: 'requests.ephemeral-storage', divisor: '1Gi', want: '1' },
    { name: 'unset cpu limit is the node allocatable', container: bare, resource: 'limits.cpu', want: '4' },
    { name: 'unset memory limit is the node allocatable', container: bare, resource: 'limits.memory', divisor: '1Gi', want: '8' },
    { name: 'unset ephemeral-storage limit is the node allocatable', container: bare, resource: 'limits.ephemeral-storage', divisor: '1Gi', want: '50' },
    { name: 'unset request is 0', container: bare, resource: 'requests.cpu', want: '0' },
    { name: 'unknown resource', container: c, resource: 'limits.gpu', want: /^unsupported container resource : limits\.gpu$/ },
  ];
  for (const t of cases) {
    it(t.name, () => {
      const r = containerResourceValue(t.container, t.resource, t.divisor, alloc);
      if (typeof t.want === 'string') assert.deepEqual(r, { ok: true, value: t.want });
      else assert.ok(!r.ok && t.want.test(r.message), JSON.stringify(r));
    });
  }

  it('finds app and init containers by name, and says which is missing', () => {
    assert.equal(findContainer(pod, 'init').container?.name, 'init');
    assert.deepEqual(findContainer(pod, 'nope'), { ok: false, message: 'container nope not found' });
  });
});
