import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ControllerRevision } from '../../api/types.ts';
import { selectorFromSet } from '../../api/labels.ts';
import type { ApiClient } from '../../client/client.ts';
import { ApiError } from '../../client/errors.ts';
import { candidateRevisions, CONTROLLER_REVISION_HASH_LABEL, equalRevision, hashRevision, newRevision, nextRevision, revisionName, revisionsToTruncate, RevisionWriter, sortRevisions } from './history.ts';

const owner = { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'uid-web', namespace: 'default' };

function rev(name: string, revision: number, opts: { data?: unknown; created?: string; owner?: string; labels?: Record<string, string>; ns?: string } = {}): ControllerRevision {
  return {
    metadata: {
      name,
      namespace: opts.ns ?? 'default',
      creationTimestamp: opts.created ?? '2026-01-01T00:00:00Z',
      labels: opts.labels ?? { app: 'web' },
      ...(opts.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'x', uid: opts.owner, controller: true }] } : {}),
    },
    data: (opts.data ?? { n: name }) as ControllerRevision['data'],
    revision,
  };
}

describe('revision names and hashes', () => {
  it('names a revision <owner>-<hash> and cuts long owners to 223 characters', () => {
    assert.equal(revisionName('web', 'abc'), 'web-abc');
    assert.equal(revisionName('x'.repeat(300), 'h').length, 225);
  });
  it('a collision count changes the hash; key order does not', () => {
    assert.notEqual(hashRevision({ a: 1 }), hashRevision({ a: 1 }, 1));
    assert.equal(hashRevision({ a: 1, b: 2 }), hashRevision({ b: 2, a: 1 }));
  });
  it('newRevision labels with the template labels and the hash, owned by the owner', () => {
    const r = newRevision(owner, { app: 'web' }, { spec: 1 }, 3);
    const hash = hashRevision({ spec: 1 });
    assert.equal(r.metadata?.name, `web-${hash}`);
    assert.deepEqual(r.metadata?.labels, { app: 'web', [CONTROLLER_REVISION_HASH_LABEL]: hash });
    assert.equal(r.metadata?.ownerReferences?.[0]?.uid, 'uid-web');
    assert.equal(r.metadata?.ownerReferences?.[0]?.controller, true);
    assert.equal(r.revision, 3);
  });
});

describe('sorting, equality, numbering, truncation', () => {
  it('sorts by revision, then creation time, then name', () => {
    const sorted = sortRevisions([rev('c', 2), rev('b', 1, { created: '2026-01-02T00:00:00Z' }), rev('a', 1, { created: '2026-01-02T00:00:00Z' }), rev('z', 1)]);
    assert.deepEqual(sorted.map((r) => r.metadata?.name), ['z', 'a', 'b', 'c']);
  });
  const cases: Array<{ name: string; a?: ControllerRevision; b?: ControllerRevision; want: boolean }> = [
    { name: 'same data', a: rev('a', 1, { data: { x: 1, y: 2 } }), b: rev('b', 2, { data: { y: 2, x: 1 } }), want: true },
    { name: 'different data', a: rev('a', 1, { data: { x: 1 } }), b: rev('b', 1, { data: { x: 2 } }), want: false },
    { name: 'same data, different hash labels', a: rev('a', 1, { data: { x: 1 }, labels: { [CONTROLLER_REVISION_HASH_LABEL]: 'h1' } }), b: rev('b', 1, { data: { x: 1 }, labels: { [CONTROLLER_REVISION_HASH_LABEL]: 'h2' } }), want: false },
    { name: 'both missing', want: true },
    { name: 'one missing', a: rev('a', 1), want: false },
  ];
  for (const c of cases) it(`equalRevision: ${c.name}`, () => assert.equal(equalRevision(c.a, c.b), c.want));

  it('nextRevision is one past the highest', () => {
    assert.equal(nextRevision([]), 1);
    assert.equal(nextRevision([rev('a', 4), rev('b', 2)]), 5);
  });

  const truncation: Array<{ name: string; revs: number[]; live: number[]; limit: number; want: number[] }> = [
    { name: 'under the limit', revs: [1, 2, 3], live: [3], limit: 2, want: [] },
    { name: 'oldest non-live go first', revs: [1, 2, 3, 4], live: [4], limit: 1, want: [1, 2] },
    { name: 'live revisions are kept whatever their age', revs: [1, 2, 3, 4], live: [1, 4], limit: 0, want: [2, 3] },
  ];
  for (const c of truncation) {
    it(`revisionsToTruncate: ${c.name}`, () => {
      const revs = c.revs.map((n) => rev(`r${n}`, n));
      const got = revisionsToTruncate(revs, c.limit, (r) => c.live.includes(r.revision));
      assert.deepEqual(got.map((r) => r.revision), c.want);
    });
  }

  it('candidates: namespace, selector, and owned by the owner or nobody', () => {
    const all = [rev('mine', 1, { owner: 'uid-web' }), rev('orphan', 1), rev('theirs', 1, { owner: 'other' }), rev('elsewhere', 1, { ns: 'kube-system' }), rev('unselected', 1, { labels: { app: 'db' } })];
    const got = candidateRevisions(all, owner, selectorFromSet({ app: 'web' }));
    assert.deepEqual(got.map((r) => r.metadata?.name), ['mine', 'orphan']);
  });
});

const apiError = (code: number, reason: string) => new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code, reason, message: reason });

/** An API with ControllerRevisions in a map (create answers AlreadyExists for taken names). */
function fakeApi(existing: ControllerRevision[]) {
  const store = new Map(existing.map((r) => [r.metadata?.name ?? '', r]));
  const api = {
    async create(_ref: unknown, _ns: string, body: ControllerRevision) {
      const name = body.metadata?.name ?? '';
      if (store.has(name)) throw apiError(409, 'AlreadyExists');
      store.set(name, body);
      return body;
    },
    async get(_ref: unknown, _ns: string, name: string) {
      const r = store.get(name);
      if (!r) throw apiError(404, 'NotFound');
      return r;
    },
  };
  return { client: api as unknown as ApiClient, store };
}

describe('RevisionWriter.create', () => {
  it('creates under <owner>-<hash>', async () => {
    const { client, store } = fakeApi([]);
    const r = newRevision(owner, { app: 'web' }, { v: 1 }, 1);
    const got = await new RevisionWriter(client).create(owner, r, 0);
    assert.equal(got.collisionCount, 0);
    assert.equal(got.revision.metadata?.name, `web-${hashRevision({ v: 1 })}`);
    assert.equal(store.size, 1);
  });
  it('returns an existing revision with the same data', async () => {
    const same = rev(`web-${hashRevision({ v: 1 })}`, 1, { data: { v: 1 } });
    const { client, store } = fakeApi([same]);
    const got = await new RevisionWriter(client).create(owner, newRevision(owner, {}, { v: 1 }, 2), 0);
    assert.equal(got.revision, same);
    assert.equal(store.size, 1);
  });
  it('bumps the collision count while the name is taken by other data', async () => {
    const { client } = fakeApi([rev(`web-${hashRevision({ v: 1 })}`, 1, { data: { other: true } }), rev(`web-${hashRevision({ v: 1 }, 1)}`, 1, { data: { other: 2 } })]);
    const got = await new RevisionWriter(client).create(owner, newRevision(owner, {}, { v: 1 }, 2), 0);
    assert.equal(got.collisionCount, 2);
    assert.equal(got.revision.metadata?.name, `web-${hashRevision({ v: 1 }, 2)}`);
    assert.equal(got.revision.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL], hashRevision({ v: 1 }, 2));
  });
});
