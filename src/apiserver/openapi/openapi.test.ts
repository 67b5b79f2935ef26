import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { OpenAPIDocuments, buildGroupVersionDocument, documentKeys } from './documents.ts';
import { handleOpenAPI } from './handler.ts';
import { schemaName } from './schemas.ts';
import { resourceSpecs } from './resources.ts';
import { builtinKinds } from '../../registry/kinds.ts';

const served = resourceSpecs(builtinKinds);

type J = { [k: string]: unknown };
const obj = (v: unknown): J => {
  assert.ok(typeof v === 'object' && v !== null && !Array.isArray(v), `not an object: ${JSON.stringify(v)}`);
  return v as J;
};

const core = buildGroupVersionDocument('', 'v1', served);
const schemas = obj(obj(core.components).schemas);
const paths = obj(core.paths);

describe('openapi: core/v1 document', () => {
  it('names schemas like upstream', () => {
    assert.equal(schemaName('V1Pod', 'io.k8s.api.core'), 'io.k8s.api.core.v1.Pod');
    assert.equal(schemaName('CoreV1Event', 'io.k8s.api.core'), 'io.k8s.api.core.v1.Event');
    assert.equal(schemaName('V1ObjectMeta', 'io.k8s.api.core'), 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
    assert.equal(schemaName('V1Lease', 'io.k8s.api.coordination'), 'io.k8s.api.coordination.v1.Lease');
    for (const k of ['io.k8s.api.core.v1.Pod', 'io.k8s.api.core.v1.Container', 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'io.k8s.apimachinery.pkg.api.resource.Quantity', 'io.k8s.apimachinery.pkg.util.intstr.IntOrString', 'io.k8s.api.policy.v1.Eviction']) {
      assert.ok(schemas[k], k);
    }
  });

  it('marks kinds with their GVK, descriptions and nested refs', () => {
    const pod = obj(schemas['io.k8s.api.core.v1.Pod']);
    assert.deepEqual(pod['x-kubernetes-group-version-kind'], [{ group: '', kind: 'Pod', version: 'v1' }]);
    assert.match(String(pod.description), /^Pod is a collection of containers/);
    const spec = obj(obj(pod.properties).spec);
    assert.deepEqual(spec.allOf, [{ $ref: '#/components/schemas/io.k8s.api.core.v1.PodSpec' }]);
    const ev = obj(schemas['io.k8s.api.core.v1.Event']);
    assert.deepEqual(ev['x-kubernetes-group-version-kind'], [{ group: '', kind: 'Event', version: 'v1' }]);
  });

  it('describes list fields with patch extensions and required fields', () => {
    const podSpec = obj(schemas['io.k8s.api.core.v1.PodSpec']);
    const containers = obj(obj(podSpec.properties).containers);
    assert.equal(containers.type, 'array');
    assert.deepEqual(obj(containers.items).allOf, [{ $ref: '#/components/schemas/io.k8s.api.core.v1.Container' }]);
    assert.equal(containers['x-kubernetes-patch-merge-key'], 'name');
    assert.equal(containers['x-kubernetes-patch-strategy'], 'merge');
    assert.deepEqual(podSpec.required, ['containers']);
    const container = obj(schemas['io.k8s.api.core.v1.Container']);
    assert.match(String(obj(obj(container.properties).livenessProbe).description), /^Periodic probe of container liveness/);
    const limits = obj(obj(obj(schemas['io.k8s.api.core.v1.ResourceRequirements']).properties).limits);
    assert.deepEqual(obj(limits.additionalProperties).allOf, [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity' }]);
  });

  it('every $ref resolves inside the document', () => {
    const text = JSON.stringify(core);
    const refs = new Set([...text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]));
    for (const r of refs) assert.ok(schemas[r], `dangling ${r}`);
  });

  const patchOps: [string, string][] = [
    ['/api/v1/namespaces/{namespace}/pods/{name}', 'Pod'],
    ['/api/v1/namespaces/{namespace}/pods/{name}/status', 'Pod'],
    ['/api/v1/namespaces/{name}', 'Namespace'],
    ['/api/v1/nodes/{name}', 'Node'],
    ['/api/v1/nodes/{name}/status', 'Node'],
    ['/api/v1/namespaces/{namespace}/events/{name}', 'Event'],
    ['/api/v1/namespaces/{namespace}/configmaps/{name}', 'ConfigMap'],
    ['/api/v1/namespaces/{namespace}/secrets/{name}', 'Secret'],
    ['/api/v1/namespaces/{namespace}/serviceaccounts/{name}', 'ServiceAccount'],
  ];
  for (const [path, kind] of patchOps) {
    it(`PATCH ${path} offers fieldValidation and the four patch types`, () => {
      const patch = obj(obj(paths[path]).patch);
      assert.deepEqual(patch['x-kubernetes-group-version-kind'], { group: '', version: 'v1', kind });
      const names = (patch.parameters as J[]).map((p) => p.name);
      assert.ok(names.includes('fieldValidation'));
      assert.deepEqual(Object.keys(obj(obj(patch.requestBody).content)).sort(), [
        'application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json',
      ]);
    });
  }

  it('has POST and PUT with fieldValidation', () => {
    const post = obj(obj(paths['/api/v1/namespaces/{namespace}/pods']).post);
    const put = obj(obj(paths['/api/v1/namespaces/{namespace}/pods/{name}']).put);
    for (const o of [post, put]) assert.ok((o.parameters as J[]).some((p) => p.name === 'fieldValidation'));
    assert.ok(obj(paths['/api/v1/namespaces']).post);
  });

  it('coordination.k8s.io/v1 carries leases', () => {
    const doc = buildGroupVersionDocument('coordination.k8s.io', 'v1', served);
    const patch = obj(obj(obj(doc.paths)['/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}']).patch);
    assert.deepEqual(patch['x-kubernetes-group-version-kind'], { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease' });
    assert.ok(obj(obj(doc.components).schemas)['io.k8s.api.coordination.v1.Lease']);
  });

  it('publishes api, api/v1, apis, the served groups and their versions', () => {
    assert.deepEqual(documentKeys(served), [
      'api', 'api/v1', 'apis',
      'apis/apps', 'apis/events.k8s.io', 'apis/authentication.k8s.io', 'apis/authorization.k8s.io', 'apis/batch', 'apis/certificates.k8s.io', 'apis/policy', 'apis/rbac.authorization.k8s.io', 'apis/storage.k8s.io', 'apis/apiextensions.k8s.io', 'apis/scheduling.k8s.io', 'apis/coordination.k8s.io', 'apis/discovery.k8s.io',
      'apis/apps/v1', 'apis/events.k8s.io/v1', 'apis/authentication.k8s.io/v1', 'apis/authorization.k8s.io/v1', 'apis/batch/v1', 'apis/certificates.k8s.io/v1', 'apis/policy/v1', 'apis/rbac.authorization.k8s.io/v1', 'apis/storage.k8s.io/v1', 'apis/apiextensions.k8s.io/v1', 'apis/scheduling.k8s.io/v1', 'apis/coordination.k8s.io/v1', 'apis/discovery.k8s.io/v1',
    ]);
  });

  it('scheduling.k8s.io/v1 carries priorityclasses', () => {
    const doc = buildGroupVersionDocument('scheduling.k8s.io', 'v1', served);
    const patch = obj(obj(obj(doc.paths)['/apis/scheduling.k8s.io/v1/priorityclasses/{name}']).patch);
    assert.deepEqual(patch['x-kubernetes-group-version-kind'], { group: 'scheduling.k8s.io', version: 'v1', kind: 'PriorityClass' });
    assert.ok(obj(obj(doc.components).schemas)['io.k8s.api.scheduling.v1.PriorityClass']);
  });
});

describe('openapi: handler', () => {
  let server: Server;
  let base: string;
  const docs = new OpenAPIDocuments(served);

  before(async () => {
    server = createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      if (!handleOpenAPI(req, res, u.pathname, u.searchParams, docs)) {
        res.writeHead(418);
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
    return new Promise((resolve, reject) => {
      request(`${base}${path}`, { method, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      }).on('error', reject).end();
    });
  }

  it('serves the index uncached, with sha512 hashes of the documents', async () => {
    const r = await get('/openapi/v3?timeout=32s');
    assert.equal(r.status, 200);
    assert.equal(r.headers['cache-control'], 'no-cache, private');
    const index = JSON.parse(r.body.toString()) as { paths: Record<string, { serverRelativeURL: string }> };
    const url = index.paths['api/v1'].serverRelativeURL;
    const hash = url.split('hash=')[1];
    assert.match(hash, /^[0-9A-F]{128}$/);
    const doc = await get(url);
    assert.equal(createHash('sha512').update(doc.body).digest('hex').toUpperCase(), hash);
  });

  it('serves hashed documents immutable for a year, with ETag and 304', async () => {
    const url = docs.index().json.toString().match(/"(\/openapi\/v3\/api\/v1\?hash=[^"]+)"/)?.[1] ?? '';
    const r = await get(`${url}&timeout=32s`);
    assert.equal(r.status, 200);
    assert.equal(r.headers['cache-control'], 'public, immutable');
    const expires = Date.parse(String(r.headers.expires));
    assert.ok(expires - Date.now() > 360 * 24 * 3600 * 1000);
    assert.equal(r.headers.etag, `"${url.split('hash=')[1]}"`);
    const again = await get(url, { 'if-none-match': String(r.headers.etag) });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
  });

  it('gzips when the client accepts it', async () => {
    const r = await get('/openapi/v3/api/v1', { 'accept-encoding': 'gzip' });
    assert.equal(r.headers['content-encoding'], 'gzip');
    assert.equal(JSON.parse(gunzipSync(r.body).toString()).openapi, '3.0.0');
    const plain = await get('/openapi/v3/api/v1', { 'accept-encoding': 'gzip;q=0' });
    assert.equal(plain.headers['content-encoding'], undefined);
  });

  it('redirects a stale hash to the current one', async () => {
    const r = await get('/openapi/v3/api/v1?hash=DEADBEEF');
    assert.equal(r.status, 301);
    assert.match(String(r.headers.location), /^\/openapi\/v3\/api\/v1\?hash=[0-9A-F]{128}$/);
  });

  const notFound: [string, number][] = [['/openapi/v3/apis/networking.k8s.io/v1', 404]];
  for (const [path, code] of notFound) {
    it(`answers ${path} with a ${code} Status`, async () => {
      const r = await get(path, { accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' });
      assert.equal(r.status, code);
      const s = JSON.parse(r.body.toString()) as J;
      assert.equal(s.kind, 'Status');
      assert.equal(s.reason, 'NotFound');
    });
  }

  it('serves /openapi/v2 as protobuf when asked, 304 on its ETag', async () => {
    const r = await get('/openapi/v2', { accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
    assert.equal(r.headers['cache-control'], 'no-cache, private');
    assert.ok(r.headers['last-modified']);
    const again = await get('/openapi/v2', { accept: 'application/json', 'if-none-match': String(r.headers.etag) });
    assert.equal(again.status, 304);
  });

  it('refuses writes and ignores other paths', async () => {
    assert.equal((await get('/openapi/v3', {}, 'POST')).status, 405);
    assert.equal((await get('/openapiv3')).status, 418);
    assert.equal((await get('/api/v1')).status, 418);
  });
});
