// Every kind in src/registry/kinds.ts, end to end through HTTPS: its discovery entries (legacy and
// aggregated), its OpenAPI schema, create / get / list / watch / patch / delete, its table columns,
// and a 422 for a bad name. A kind added to the registry is tested here by being added: it needs only
// an example object below (the first test fails until it has one).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../../src/api/types.ts';
import { ApiClient } from '../../src/client/client.ts';
import { ApiError } from '../../src/client/errors.ts';
import type { ResourceRef } from '../../src/client/resources.ts';
import { startControlPlane, type ControlPlane } from '../../src/cmd/controlplane.ts';
import { builtinKinds } from '../../src/registry/kinds.ts';
import { kindStorageVersionHash } from '../../src/apiserver/discovery.ts';
import type { KindDefinition } from '../../src/registry/kind.ts';
import { kindExamples as examples } from './kind-examples.ts';


const NS = 'kinds';
let dir: string;
let cp: ControlPlane;
let client: ApiClient;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tk-kinds-'));
  cp = await startControlPlane({ dataDir: dir, listen: '127.0.0.1:0' });
  client = ApiClient.fromKubeconfig(cp.kubeconfigPath, { userAgent: 'kinds-test' });
  await client.create({ apiVersion: 'v1', resource: 'namespaces' }, undefined, { metadata: { name: NS } });
});

after(async () => {
  client?.close();
  await cp?.close();
  rmSync(dir, { recursive: true, force: true });
});

const keyOf = (k: KindDefinition) => `${k.info.resource}.${k.info.group}`;
const apiVersionOf = (k: KindDefinition) => (k.info.group ? `${k.info.group}/${k.info.version}` : k.info.version);
const refOf = (k: KindDefinition): ResourceRef => ({ apiVersion: apiVersionOf(k), resource: k.info.resource });
const nsOf = (k: KindDefinition) => (k.info.namespaced ? NS : undefined);

test('every kind has an example object in this test', () => {
  assert.deepEqual(builtinKinds.map(keyOf).filter((k) => !examples[k]), []);
});

interface APIResource {
  name: string;
  singularName: string;
  namespaced: boolean;
  kind: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  storageVersionHash?: string;
}

for (const kind of builtinKinds) {
  const i = kind.info;
  describe(`${keyOf(kind)}`, () => {
    test('legacy and aggregated discovery', async () => {
      const path = i.group ? `/apis/${i.group}/${i.version}` : `/api/${i.version}`;
      const doc = await client.requestJson<{ groupVersion: string; resources: APIResource[] }>('GET', path);
      assert.equal(doc.groupVersion, apiVersionOf(kind));
      const e = doc.resources.find((r) => r.name === i.resource);
      assert.ok(e, `${i.resource} in ${path}`);
      assert.deepEqual([e.kind, e.singularName, e.namespaced, e.verbs, e.shortNames ?? [], e.categories ?? []], [i.kind, i.singular, i.namespaced, i.verbs, i.shortNames ?? [], i.categories ?? []]);
      assert.equal(e.storageVersionHash, kindStorageVersionHash(kind));
      for (const sub of Object.keys(kind.subresources)) assert.ok(doc.resources.some((r) => r.name === `${i.resource}/${sub}`), `${i.resource}/${sub}`);
      const agg = await client.requestJson<{ items: Array<{ metadata: { name?: string }; versions: Array<{ version: string; resources: Array<{ resource: string; responseKind: { kind: string } }> }> }> }>('GET', i.group ? '/apis' : '/api', {
        accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
      });
      const group = agg.items.find((g) => (g.metadata.name ?? '') === i.group);
      const r = group?.versions.find((v) => v.version === i.version)?.resources.find((x) => x.resource === i.resource);
      assert.equal(r?.responseKind.kind, i.kind);
    });

    test('OpenAPI v3 schema', async () => {
      const path = i.group ? `apis/${i.group}/${i.version}` : `api/${i.version}`;
      const doc = await client.requestJson<{ components: { schemas: Record<string, { 'x-kubernetes-group-version-kind'?: Array<{ group: string; version: string; kind: string }> }> } }>('GET', `/openapi/v3/${path}`);
      const found = Object.values(doc.components.schemas).some((s) => (s['x-kubernetes-group-version-kind'] ?? []).some((g) => g.group === i.group && g.version === i.version && g.kind === i.kind));
      assert.ok(found, `a schema for ${i.kind}`);
    });

    if (!i.verbs.includes('get')) {
      // A kind computed on create (a review): create answers it, nothing else is served.
      test('create computes it; other verbs are not allowed', async () => {
        const ref = refOf(kind);
        const out = await client.create<KubeObject & { metadata: { name: string } }>(ref, nsOf(kind), examples[keyOf(kind)]!('') as KubeObject & { metadata: { name: string } });
        assert.equal(out.kind, i.kind);
        await assert.rejects(client.list(ref, nsOf(kind)), (e: unknown) => e instanceof ApiError && e.code === 405);
      });
      return;
    }

    test('create, get, list, watch, patch, table, delete', async () => {
      const given = `ex-${i.singular}`;
      const name = (examples[keyOf(kind)]!(given).metadata?.name as string | undefined) ?? given;
      const ref = refOf(kind);
      const ns = nsOf(kind);
      const created = await client.create<KubeObject & { metadata: { name: string } }>(ref, ns, examples[keyOf(kind)]!(given) as KubeObject & { metadata: { name: string } });
      assert.equal(created.kind, i.kind);
      assert.equal(created.apiVersion, apiVersionOf(kind));
      assert.ok(created.metadata.uid && created.metadata.resourceVersion);
      const got = await client.get<KubeObject>(ref, ns, name);
      assert.equal(got.metadata?.uid, created.metadata.uid);
      const list = await client.list<KubeObject>(ref, ns);
      assert.ok(list.items.some((o) => o.metadata?.name === name));

      const abort = new AbortController();
      const watch = await client.watch<KubeObject>(ref, ns, { resourceVersion: created.metadata.resourceVersion, signal: abort.signal });
      await client.patch(ref, ns, name, 'merge', { metadata: { labels: { tested: 'yes' } } });
      // Other writers (a controller filling in status) may come first: wait for the patch's event.
      for await (const ev of watch) {
        assert.equal(ev.type, 'MODIFIED');
        if ((ev.object as KubeObject).metadata?.labels?.tested === 'yes') break;
      }
      abort.abort();

      const table = await client.requestJson<{ kind: string; columnDefinitions: Array<{ name: string }>; rows: Array<{ cells: unknown[] }> }>('GET', `${i.group ? `/apis/${i.group}/${i.version}` : `/api/${i.version}`}${ns ? `/namespaces/${ns}` : ''}/${i.resource}`, {
        accept: 'application/json;as=Table;v=v1;g=meta.k8s.io',
      });
      assert.equal(table.kind, 'Table');
      const want = kind.printer ? kind.printer.columns.map((c) => c.name) : ['Name', 'Age'];
      assert.deepEqual(table.columnDefinitions.map((c) => c.name), want);
      assert.ok(table.rows.every((r) => r.cells.length === want.length));

      await client.delete(ref, ns, name);
      try {
        const after = await client.get<KubeObject>(ref, ns, name);
        // Deletion held (a namespace waits for its controller): it is marked.
        assert.ok(after.metadata?.deletionTimestamp, `${name} gone or being deleted`);
      } catch (err) {
        assert.ok(err instanceof ApiError && err.code === 404, String(err));
      }
    });

    test('a bad name is a 422 naming metadata.name', async () => {
      if (!examples[keyOf(kind)]!('bad/name').metadata) return;
      try {
        await client.create(refOf(kind), nsOf(kind), examples[keyOf(kind)]!('bad/name') as KubeObject & { metadata: { name: string } });
        assert.fail('created an object named bad/name');
      } catch (err) {
        assert.ok(err instanceof ApiError, String(err));
        assert.equal(err.code, 422);
        assert.equal(err.reason, 'Invalid');
        assert.ok(err.status?.details?.causes?.some((c) => c.field === 'metadata.name'), JSON.stringify(err.status));
      }
    });
  });
}
