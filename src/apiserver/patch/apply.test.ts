import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyServerSideApply } from './apply.ts';
import { FieldSet, pathString } from './fieldset.ts';
import { modelSchema } from './schema.ts';
import { assertStatus, nested } from './testing.ts';

const NOW = '2025-01-02T03:04:05Z';
const LATER = '2025-01-02T03:05:00Z';

type Obj = Record<string, unknown>;

interface ConfigOptions {
  labels?: Record<string, string>;
  containers?: Obj[];
  finalizers?: string[];
}

/** An apply configuration as `kubectl apply --server-side` sends it. */
function config(o: ConfigOptions = {}): Obj {
  const metadata: Obj = { name: 'web', namespace: 'default', labels: o.labels ?? { app: 'web' } };
  if (o.finalizers) metadata.finalizers = o.finalizers;
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec: { containers: o.containers ?? [{ name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] } };
}

const apply = (live: unknown, applied: unknown, manager = 'kubectl', force = false, now = NOW) => applyServerSideApply(live, applied, modelSchema, 'V1Pod', manager, { force, now });

/** What the store would hold after a create from `applied`: server fields added. */
function stored(obj: Obj): Obj {
  const o = structuredClone(obj);
  Object.assign(o.metadata as Obj, { uid: 'u1', resourceVersion: '1', creationTimestamp: NOW });
  Object.assign(o.spec as Obj, { restartPolicy: 'Always' });
  o.status = { phase: 'Pending' };
  return o;
}

const managed = (o: Obj) => (o.metadata as { managedFields: Obj[] }).managedFields;
const containers = (o: Obj) => (o.spec as { containers: Obj[] }).containers;

describe('server-side apply: create', () => {
  it('creates the object from the configuration with one Apply entry in FieldsV1 notation', () => {
    const got = apply(undefined, config());
    const { managedFields, ...meta } = got.metadata as Obj;
    assert.deepEqual({ ...got, metadata: meta }, config());
    assert.deepEqual(managedFields, [
      {
        apiVersion: 'v1',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': {
            'f:containers': {
              'k:{"name":"nginx"}': { '.': {}, 'f:image': {}, 'f:name': {}, 'f:ports': { 'k:{"containerPort":80}': { '.': {}, 'f:containerPort': {} } } },
            },
          },
        },
        manager: 'kubectl',
        operation: 'Apply',
        time: NOW,
      },
    ]);
  });

  it('owns set-list values with v: and atomic lists as a whole', () => {
    const got = apply(undefined, config({ finalizers: ['a/b'], containers: [{ name: 'c', args: ['x', 'y'] }] }));
    const fields = managed(got)[0].fieldsV1 as Obj;
    assert.deepEqual((fields['f:metadata'] as Obj)['f:finalizers'], { 'v:"a/b"': {} });
    assert.deepEqual((fields['f:spec'] as Obj)['f:containers'], { 'k:{"name":"c"}': { '.': {}, 'f:args': {}, 'f:name': {} } });
  });
});

describe('server-side apply: update', () => {
  it('re-applying the same configuration changes nothing, the entry time included (a no-op apply stores nothing)', () => {
    const live = stored(apply(undefined, config()));
    const got = apply(live, config(), 'kubectl', false, LATER);
    assert.deepEqual(got, live);
    assert.notEqual(managed(got)[0].time, LATER);
  });

  it('merges changes and removes what the manager no longer applies, keeping server fields', () => {
    const live = stored(apply(undefined, config({ labels: { app: 'web', tier: 'a' }, containers: [{ name: 'nginx', image: 'nginx:1.27', env: [{ name: 'A', value: '1' }] }, { name: 'side', image: 'busybox' }] })));
    const got = apply(live, config({ labels: { app: 'web' }, containers: [{ name: 'nginx', image: 'nginx:1.28' }] }));
    assert.deepEqual((got.metadata as Obj).labels, { app: 'web' });
    assert.deepEqual(containers(got), [{ name: 'nginx', image: 'nginx:1.28' }]);
    assert.equal((got.spec as Obj).restartPolicy, 'Always');
    assert.deepEqual(got.status, { phase: 'Pending' });
    assert.equal((got.metadata as Obj).uid, 'u1');
    assert.equal(managed(got).length, 1);
  });

  it('adds new keyed items after the live ones', () => {
    const live = stored(apply(undefined, config()));
    const got = apply(live, config({ containers: [{ name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }, { name: 'b', image: 'busybox' }] }));
    assert.deepEqual(
      containers(got).map((c) => c.name),
      ['nginx', 'b'],
    );
  });

  it('keeps fields another manager also owns', () => {
    const live = stored(apply(undefined, config({ labels: { app: 'web', team: 'x' } })));
    const other = apply(live, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', labels: { team: 'x' } } }, 'labeller');
    const got = apply(other, config({ labels: { app: 'web' } }));
    assert.deepEqual((got.metadata as Obj).labels, { app: 'web', team: 'x' });
    assert.deepEqual(
      managed(got).map((m) => m.manager),
      ['kubectl', 'labeller'],
    );
  });

  it('does not touch fields set without an apply (no ownership recorded)', () => {
    const live = stored(config());
    (live.spec as Obj).nodeName = 'n1';
    const got = apply(live, config({ containers: [{ name: 'nginx', image: 'nginx:1.28' }] }));
    assert.equal((got.spec as Obj).nodeName, 'n1');
    assert.deepEqual(containers(got), [{ name: 'nginx', image: 'nginx:1.28', ports: [{ containerPort: 80 }] }]);
  });

  it('merges primitive set lists and removes values no longer applied', () => {
    const live = stored(apply(undefined, config({ finalizers: ['a', 'b'] })));
    const got = apply(live, config({ finalizers: ['b', 'c'] }));
    assert.deepEqual((got.metadata as Obj).finalizers, ['b', 'c']);
  });
});

describe('server-side apply: conflicts', () => {
  const withOtherOwner = (operation: 'Apply' | 'Update') => {
    const live = stored(config());
    (live.metadata as Obj).managedFields = [
      {
        apiVersion: 'v1',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { '.': {}, 'f:image': {}, 'f:name': {} } } } },
        manager: 'other',
        operation,
        time: NOW,
      },
    ];
    return live;
  };

  it('409 when changing a value another applier owns, worded as the apiserver', () => {
    const err = assertStatus(() => apply(withOtherOwner('Apply'), config({ containers: [{ name: 'nginx', image: 'nginx:1.28' }] })), 409, 'Conflict');
    assert.equal(err.message, 'Apply failed with 1 conflict: conflict with "other": .spec.containers[name="nginx"].image');
    assert.deepEqual(err.details?.causes, [{ reason: 'FieldManagerConflict', message: 'conflict with "other"', field: '.spec.containers[name="nginx"].image' }]);
  });

  it('names an Update manager with its apiVersion and time', () => {
    const err = assertStatus(() => apply(withOtherOwner('Update'), config({ containers: [{ name: 'nginx', image: 'nginx:1.28' }] })), 409);
    assert.equal(err.message, `Apply failed with 1 conflict: conflict with "other" using v1 at ${NOW}: .spec.containers[name="nginx"].image`);
  });

  it('lists several conflicts grouped by manager', () => {
    const live = withOtherOwner('Apply');
    const fields = (managed(live)[0].fieldsV1 as Obj)['f:spec'] as Obj;
    fields['f:restartPolicy'] = {};
    (live.spec as Obj).restartPolicy = 'Always';
    const cfg = config({ containers: [{ name: 'nginx', image: 'nginx:1.28' }] });
    (cfg.spec as Obj).restartPolicy = 'Never';
    const err = assertStatus(() => apply(live, cfg), 409);
    assert.equal(err.message, 'Apply failed with 2 conflicts: conflicts with "other":\n- .spec.containers[name="nginx"].image\n- .spec.restartPolicy');
  });

  it('equal values are shared, not conflicts', () => {
    const got = apply(withOtherOwner('Apply'), config());
    assert.deepEqual(
      managed(got).map((m) => m.manager),
      ['other', 'kubectl'],
    );
  });

  it('force takes the field over', () => {
    const got = apply(withOtherOwner('Apply'), config({ containers: [{ name: 'nginx', image: 'nginx:1.28' }] }), 'kubectl', true);
    assert.equal(containers(got)[0].image, 'nginx:1.28');
    const other = managed(got).find((m) => m.manager === 'other') as Obj;
    assert.deepEqual(other.fieldsV1, { 'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { '.': {}, 'f:name': {} } } } });
  });
});

describe('server-side apply: errors', () => {
  const cases: Array<{ name: string; applied: unknown; manager?: string; code: number; message?: string }> = [
    { name: 'body is a list', applied: [], code: 400, message: 'cannot unmarshal array' },
    { name: 'body is null', applied: null, code: 400 },
    { name: 'no kind', applied: { apiVersion: 'v1', metadata: { name: 'web' } }, code: 400, message: 'kind' },
    { name: 'managedFields in the configuration', applied: { ...config(), metadata: { name: 'web', managedFields: [] } }, code: 400, message: 'managedFields must be nil' },
    { name: 'no field manager', applied: config(), manager: '', code: 422, message: 'fieldManager: Required value' },
    { name: 'keyed item without its key', applied: config({ containers: [{ image: 'x' }] }), code: 400, message: 'omits key field "name"' },
    { name: 'nested 10,000 levels', applied: { ...config(), spec: nested(10000) }, code: 400, message: 'depth' },
  ];
  for (const c of cases) {
    it(`${c.code}: ${c.name}`, () => {
      assertStatus(() => apply(undefined, c.applied, c.manager ?? 'kubectl'), c.code, undefined, c.message);
    });
  }
});

describe('server-side apply at scale', () => {
  // 100k items take ~1.3 s here (mostly allocation); 20k keep the suite fast and still catch quadratic walks.
  it('re-applies 20k keyed items quickly', () => {
    const n = 20_000;
    const cs = Array.from({ length: n }, (_, i) => ({ name: `c${i}`, image: 'a' }));
    const live = stored(apply(undefined, config({ containers: cs })));
    const start = performance.now();
    const got = apply(live, config({ containers: cs.slice(1).map((c) => ({ ...c, image: 'b' })) }));
    assert.equal(containers(got).length, n - 1);
    assert.equal(containers(got)[0].name, 'c1');
    assert.ok(performance.now() - start < 3000);
  });
});

describe('FieldSet', () => {
  it('round-trips fieldsV1 and renders paths', () => {
    const v1 = { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } }, 'f:spec': { 'f:containers': { 'k:{"name":"a"}': { '.': {}, 'f:image': {} } } } };
    const s = FieldSet.fromFieldsV1(v1);
    assert.equal(s.size, 4);
    assert.deepEqual(s.toFieldsV1(), v1);
    assert.equal(pathString(['f:spec', 'f:containers', 'k:{"name":"a"}', 'f:ports', 'k:{"containerPort":80}']), '.spec.containers[name="a"].ports[containerPort=80]');
    assert.equal(pathString(['f:metadata', 'f:finalizers', 'v:"x"']), '.metadata.finalizers[="x"]');
  });

  it('ignores malformed fieldsV1', () => {
    assert.equal(FieldSet.fromFieldsV1('x').size, 0);
    assert.equal(FieldSet.fromFieldsV1({ 'f:a': 1, 'f:b': {} }).size, 1);
  });
});

describe('server-side apply purity', () => {
  it('does not modify or alias its inputs', () => {
    const live = stored(apply(undefined, config()));
    const other = apply(live, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', labels: { team: 'x' } } }, 'labeller');
    const cfg = config({ containers: [{ name: 'nginx', image: 'nginx:1.28' }] });
    const before = JSON.stringify([other, cfg]);
    const got = apply(other, cfg);
    assert.equal(JSON.stringify([other, cfg]), before);
    (managed(got)[1].fieldsV1 as Obj).mutated = true;
    containers(got)[0].image = 'changed';
    assert.equal(JSON.stringify([other, cfg]), before);
  });
});
