import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyStrategicMergePatch } from './strategic.ts';
import { emptySchema, modelSchema } from './schema.ts';
import { assertStatus, container, livePod, nested } from './testing.ts';

const smp = (doc: unknown, patch: unknown, typeName: string | undefined = 'V1Pod') => applyStrategicMergePatch(doc, patch, modelSchema, typeName);

const ann = { 'kubectl.kubernetes.io/last-applied-configuration': '{"new":true}\n' };

describe('strategic merge patch: kubectl-wire.md §6.2 examples', () => {
  it('image and one label changed, with $setElementOrder/containers', () => {
    const live = livePod();
    const patch = {
      metadata: { annotations: ann, labels: { tier: 'web2' } },
      spec: { '$setElementOrder/containers': [{ name: 'nginx' }], containers: [{ image: 'nginx:1.28', name: 'nginx' }] },
    };
    const want = livePod();
    (want.metadata as Record<string, unknown>).annotations = ann;
    (want.metadata as Record<string, unknown>).labels = { app: 'web', tier: 'web2' };
    ((want.spec as { containers: Record<string, unknown>[] }).containers[0]).image = 'nginx:1.28';
    assert.deepEqual(smp(live, patch), want);
    assert.deepEqual(live, livePod(), 'input not modified');
  });

  it('label removed, env removed, port 80 replaced by 8080', () => {
    const patch = {
      metadata: { annotations: ann, labels: { tier: null } },
      spec: {
        '$setElementOrder/containers': [{ name: 'nginx' }],
        containers: [
          {
            '$setElementOrder/ports': [{ containerPort: 8080 }],
            env: null,
            name: 'nginx',
            ports: [{ containerPort: 8080 }, { $patch: 'delete', containerPort: 80 }],
          },
        ],
      },
    };
    const got = smp(livePod(), patch);
    const want = livePod({ labels: { app: 'web' }, containers: [container('nginx', { ports: [{ containerPort: 8080 }] })] });
    (want.metadata as Record<string, unknown>).annotations = ann;
    assert.deepEqual(got, want);
  });
});

interface Case {
  name: string;
  doc: Record<string, unknown>;
  patch: unknown;
  want: unknown;
  type?: string;
  noSchema?: boolean;
}

const pod = (spec: Record<string, unknown>, metadata: Record<string, unknown> = {}) => ({ metadata: { name: 'p', ...metadata }, spec });
const names = (...n: string[]) => n.map((name) => ({ name }));

const cases: Case[] = [
  { name: 'null deletes a field', doc: pod({ a: 1, restartPolicy: 'Always' }), patch: { spec: { restartPolicy: null } }, want: pod({ a: 1 }) },
  { name: 'null for an absent field is ignored', doc: pod({}), patch: { spec: { nodeName: null } }, want: pod({}) },
  {
    name: 'maps merge recursively',
    doc: pod({}, { labels: { a: '1', b: '2' } }),
    patch: { metadata: { labels: { b: '3', c: '4' } } },
    want: pod({}, { labels: { a: '1', b: '3', c: '4' } }),
  },
  {
    name: 'keyed list: item merged by key, other items kept',
    doc: pod({ containers: [container('a'), container('b')] }),
    patch: { spec: { containers: [{ name: 'b', image: 'x' }] } },
    want: pod({ containers: [container('a'), container('b', { image: 'x' })] }),
  },
  {
    name: 'keyed list: a new key without $setElementOrder goes before server-only items (as apimachinery)',
    doc: pod({ containers: [container('a')] }),
    patch: { spec: { containers: [{ name: 'b', image: 'x' }] } },
    want: pod({ containers: [{ name: 'b', image: 'x' }, container('a')] }),
  },
  {
    name: 'keyed list: a new key with $setElementOrder is placed as ordered',
    doc: pod({ containers: [container('a')] }),
    patch: { spec: { '$setElementOrder/containers': names('a', 'b'), containers: [{ name: 'b', image: 'x' }] } },
    want: pod({ containers: [container('a'), { name: 'b', image: 'x' }] }),
  },
  {
    name: 'keyed list: patch items keep patch order, interleaved with server-only items by live position',
    doc: pod({ containers: names('a', 'b', 'c') }),
    patch: { spec: { containers: [{ name: 'c', x: 1 }, { name: 'a', x: 1 }] } },
    want: pod({ containers: [{ name: 'b' }, { name: 'c', x: 1 }, { name: 'a', x: 1 }] }),
  },
  {
    name: '$setElementOrder alone reorders the live list',
    doc: pod({ containers: names('a', 'b', 'c') }),
    patch: { spec: { '$setElementOrder/containers': names('c', 'a', 'b') } },
    want: pod({ containers: names('c', 'a', 'b') }),
  },
  {
    name: '$setElementOrder with a list absent from the live object adds it',
    doc: pod({}),
    patch: { spec: { '$setElementOrder/initContainers': names('i'), initContainers: [{ name: 'i', image: 'busybox' }] } },
    want: pod({ initContainers: [{ name: 'i', image: 'busybox' }] }),
  },
  {
    name: 'numeric merge key (ports by containerPort)',
    doc: pod({ containers: [{ name: 'a', ports: [{ containerPort: 80, name: 'http' }, { containerPort: 443 }] }] }),
    patch: { spec: { containers: [{ name: 'a', ports: [{ containerPort: 80, name: 'web' }] }] } },
    want: pod({ containers: [{ name: 'a', ports: [{ containerPort: 80, name: 'web' }, { containerPort: 443 }] }] }),
  },
  {
    name: 'list without merge key is replaced (tolerations, args)',
    doc: pod({ tolerations: [{ key: 'a' }, { key: 'b' }], containers: [{ name: 'a', args: ['1', '2'] }] }),
    patch: { spec: { tolerations: [{ key: 'c' }], containers: [{ name: 'a', args: ['3'] }] } },
    want: pod({ tolerations: [{ key: 'c' }], containers: [{ name: 'a', args: ['3'] }] }),
  },
  {
    name: '$patch: delete in a list element removes that key',
    doc: pod({ containers: [container('a'), container('b')] }),
    patch: { spec: { containers: [{ name: 'a', $patch: 'delete' }] } },
    want: pod({ containers: [container('b')] }),
  },
  {
    name: '$patch: delete for a key that is not live is a no-op',
    doc: pod({ containers: [container('a')] }),
    patch: { spec: { containers: [{ name: 'zz', $patch: 'delete' }] } },
    want: pod({ containers: [container('a')] }),
  },
  {
    name: '$patch: replace in a list element replaces the whole list',
    doc: pod({ containers: [container('a'), container('b')] }),
    patch: { spec: { containers: [{ $patch: 'replace' }, { name: 'c', image: 'y', bogus: null }] } },
    want: pod({ containers: [{ name: 'c', image: 'y' }] }),
  },
  {
    name: '$patch: replace in a map replaces the map',
    doc: pod({}, { labels: { a: '1', b: '2' } }),
    patch: { metadata: { labels: { $patch: 'replace', c: '3' } } },
    want: pod({}, { labels: { c: '3' } }),
  },
  {
    name: '$patch: delete in a map removes the map',
    doc: pod({ securityContext: { runAsUser: 1 } }),
    patch: { spec: { securityContext: { $patch: 'delete' } } },
    want: pod({}),
  },
  {
    name: '$patch: merge in a map is the default merge',
    doc: pod({}, { labels: { a: '1' } }),
    patch: { metadata: { labels: { $patch: 'merge', b: '2' } } },
    want: pod({}, { labels: { a: '1', b: '2' } }),
  },
  {
    name: '$patch: replace at the top replaces the object',
    doc: pod({ a: 1 }),
    patch: { $patch: 'replace', metadata: { name: 'q' } },
    want: { metadata: { name: 'q' } },
  },
  {
    name: '$retainKeys drops keys not listed (volume source switch)',
    doc: pod({ volumes: [{ name: 'v', emptyDir: {} }] }),
    patch: { spec: { volumes: [{ $retainKeys: ['hostPath', 'name'], name: 'v', hostPath: { path: '/x' } }] } },
    want: pod({ volumes: [{ name: 'v', hostPath: { path: '/x' } }] }),
  },
  {
    name: 'primitive merge list (finalizers) merges as a set',
    doc: pod({}, { finalizers: ['a', 'b'] }),
    patch: { metadata: { finalizers: ['b', 'c'] } },
    want: pod({}, { finalizers: ['a', 'b', 'c'] }),
  },
  {
    name: '$deleteFromPrimitiveList removes values',
    doc: pod({}, { finalizers: ['a', 'b', 'c'] }),
    patch: { metadata: { '$deleteFromPrimitiveList/finalizers': ['b', 'zz'] } },
    want: pod({}, { finalizers: ['a', 'c'] }),
  },
  {
    name: '$deleteFromPrimitiveList with $setElementOrder and additions (kubectl three-way shape)',
    doc: pod({}, { finalizers: ['a', 'b'] }),
    patch: { metadata: { '$setElementOrder/finalizers': ['c', 'a'], finalizers: ['c'], '$deleteFromPrimitiveList/finalizers': ['b'] } },
    want: pod({}, { finalizers: ['c', 'a'] }),
  },
  {
    name: '$deleteFromPrimitiveList for an absent list is a no-op',
    doc: pod({}),
    patch: { metadata: { '$deleteFromPrimitiveList/finalizers': ['b'] } },
    want: pod({}),
  },
  {
    name: 'values placed where nothing is live lose nulls and directives',
    doc: pod({}),
    patch: { spec: { securityContext: { runAsUser: 1, runAsGroup: null }, containers: [{ name: 'a', env: [{ name: 'X', value: 'y' }, { name: 'Z', $patch: 'delete' }] }] } },
    want: pod({ securityContext: { runAsUser: 1 }, containers: [{ name: 'a', env: [{ name: 'X', value: 'y' }] }] }),
  },
  {
    name: 'a value of another kind is replaced',
    doc: pod({ nodeSelector: 'weird' }),
    patch: { spec: { nodeSelector: { disk: 'ssd' } } },
    want: pod({ nodeSelector: { disk: 'ssd' } }),
  },
  {
    name: 'without a schema lists are replaced and maps merged',
    doc: { spec: { containers: [container('a')], m: { a: 1 } } },
    patch: { spec: { containers: [{ name: 'b' }], m: { b: 2 } } },
    want: { spec: { containers: [{ name: 'b' }], m: { a: 1, b: 2 } } },
    noSchema: true,
  },
  {
    name: '__proto__ keys stay data',
    doc: pod({}, { labels: {} }),
    patch: JSON.parse('{"metadata":{"labels":{"__proto__":"x"}}}'),
    want: JSON.parse('{"metadata":{"name":"p","labels":{"__proto__":"x"}},"spec":{}}'),
  },
  {
    name: 'map-of-model fields descend into the value type (no merge key there: replaced)',
    doc: { spec: { overhead: { cpu: '1' } } },
    patch: { spec: { overhead: { memory: '1Gi' } } },
    want: { spec: { overhead: { cpu: '1', memory: '1Gi' } } },
  },
];

describe('strategic merge patch constructs', () => {
  for (const c of cases) {
    it(c.name, () => {
      const before = JSON.stringify([c.doc, c.patch]);
      const got = c.noSchema ? applyStrategicMergePatch(c.doc, c.patch, emptySchema, undefined) : smp(c.doc, c.patch, c.type);
      assert.deepEqual(got, c.want);
      assert.equal(JSON.stringify([c.doc, c.patch]), before, 'inputs not modified');
      assert.equal(Object.getPrototypeOf(got), Object.prototype);
    });
  }
});

interface ErrorCase {
  name: string;
  doc?: unknown;
  patch: unknown;
  code: number;
  message?: string;
}

const errorCases: ErrorCase[] = [
  { name: 'patch is an array', patch: [], code: 400, message: 'cannot unmarshal array' },
  { name: 'patch is a string', patch: 'x', code: 400 },
  { name: 'patch is null', patch: null, code: 400 },
  { name: 'document is not an object', doc: [], patch: {}, code: 400, message: 'invalid JSON document' },
  { name: 'unknown $patch in a map', patch: { metadata: { labels: { $patch: 'explode' } } }, code: 400, message: 'unknown patch type: explode' },
  { name: 'unknown $patch in a list element', doc: pod({ containers: names('a') }), patch: { spec: { containers: [{ name: 'a', $patch: 'explode' }] } }, code: 400, message: 'unknown patch type' },
  { name: 'delete element without merge key', doc: pod({ containers: names('a') }), patch: { spec: { containers: [{ $patch: 'delete' }] } }, code: 400, message: 'does not contain declared merge key: name' },
  { name: 'list item without merge key', doc: pod({ containers: names('a') }), patch: { spec: { containers: [{ image: 'x' }] } }, code: 400, message: 'does not contain declared merge key' },
  { name: 'merge key that is an object', doc: pod({ containers: names('a') }), patch: { spec: { containers: [{ name: { x: 1 } }] } }, code: 400 },
  { name: '$retainKeys not a list', doc: pod({ volumes: names('v') }), patch: { spec: { volumes: [{ name: 'v', $retainKeys: 'name' }] } }, code: 400, message: 'invalid patch format of retainKeys' },
  { name: 'patch key missing from $retainKeys', doc: pod({ volumes: names('v') }), patch: { spec: { volumes: [{ name: 'v', $retainKeys: ['name'], hostPath: {} }] } }, code: 400, message: 'retainKeys' },
  { name: '$setElementOrder not a list', patch: { spec: { '$setElementOrder/containers': { name: 'a' } } }, code: 400, message: 'setElementOrder' },
  {
    name: '$setElementOrder contradicting the patch order',
    doc: pod({ containers: names('a', 'b') }),
    patch: { spec: { '$setElementOrder/containers': names('a', 'b'), containers: names('b', 'a') } },
    code: 400,
    message: "doesn't match $setElementOrder list",
  },
  { name: '$setElementOrder entry without merge key', doc: pod({ containers: names('a') }), patch: { spec: { '$setElementOrder/containers': [{ image: 'a' }], containers: names('a') } }, code: 400 },
  { name: '$setElementOrder with a non-list field value', patch: { spec: { '$setElementOrder/containers': names('a'), containers: { name: 'a' } } }, code: 400 },
  { name: '$deleteFromPrimitiveList not a list', doc: pod({}, { finalizers: ['a'] }), patch: { metadata: { '$deleteFromPrimitiveList/finalizers': 'a' } }, code: 400, message: 'primitive list' },
  { name: '$deleteFromPrimitiveList of objects', doc: pod({}, { finalizers: ['a'] }), patch: { metadata: { '$deleteFromPrimitiveList/finalizers': [{}] } }, code: 400 },
  { name: 'unknown $ directive', patch: { spec: { $bogus: 1 } }, code: 400, message: '$bogus' },
  { name: 'list of lists in a merge list', doc: pod({ containers: names('a') }), patch: { spec: { containers: [['x']] } }, code: 422 },
  { name: 'mixed element types in a merge list', doc: pod({}, { finalizers: ['a'] }), patch: { metadata: { finalizers: [1] } }, code: 400, message: 'not identical' },
  { name: 'patch nested 10,000 levels', patch: nested(10000), code: 400, message: 'depth' },
];

describe('strategic merge patch errors are 4xx Status errors', () => {
  for (const c of errorCases) {
    it(c.name, () => {
      assertStatus(() => smp(c.doc ?? pod({}), c.patch), c.code, undefined, c.message);
    });
  }
});

describe('strategic merge patch at scale', () => {
  it('merges 100k keyed items in linear time', () => {
    const n = 100_000;
    const live = pod({ containers: Array.from({ length: n }, (_, i) => ({ name: `c${i}`, image: 'a' })) });
    const patchItems = Array.from({ length: n + 1 }, (_, i) => ({ name: `c${i}`, image: 'b' }));
    const order = names('c-new', ...Array.from({ length: n + 1 }, (_, i) => `c${i}`));
    patchItems.unshift({ name: 'c-new', image: 'b' });
    const start = performance.now();
    const got = smp(live, { spec: { '$setElementOrder/containers': order, containers: patchItems } });
    const ms = performance.now() - start;
    const cs = (got.spec as { containers: Array<{ name: string; image: string }> }).containers;
    assert.equal(cs.length, n + 2);
    assert.equal(cs[0].name, 'c-new');
    assert.equal(cs[1].name, 'c0');
    assert.equal(cs[n + 1].name, `c${n}`);
    assert.ok(cs.every((c) => c.image === 'b'));
    assert.ok(ms < 5000, `took ${ms} ms`);
  });

  it('merges a 100k primitive set quickly', () => {
    const n = 100_000;
    const live = pod({}, { finalizers: Array.from({ length: n }, (_, i) => `f${i}`) });
    const got = smp(live, { metadata: { finalizers: Array.from({ length: n }, (_, i) => `g${i}`), '$deleteFromPrimitiveList/finalizers': ['f0'] } });
    assert.equal(((got.metadata as { finalizers: string[] }).finalizers).length, 2 * n - 1);
  });
});

describe('strategic merge patch of Node taints', () => {
  // kubectl taint sends the whole new list; with no merge key it replaces the stored one, so two
  // taints that share a key (unreachable NoSchedule and NoExecute) neither collapse nor duplicate.
  it('replaces the list', () => {
    const unreachable = [
      { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule', timeAdded: '2024-01-01T00:00:00Z' },
      { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2024-01-01T00:00:00Z' },
    ];
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { taints: unreachable } };
    const taints = [...unreachable, { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }];
    assert.deepEqual(smp(node, { spec: { taints } }, 'V1Node'), { ...node, spec: { taints } });
    assert.deepEqual(smp(node, { spec: { taints: [unreachable[1]] } }, 'V1Node'), { ...node, spec: { taints: [unreachable[1]] } });
  });
});
