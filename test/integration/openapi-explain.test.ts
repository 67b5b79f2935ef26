// The real kubectl's `explain` against our OpenAPI v3 documents, served by a throwaway HTTP server
// with just enough around them (/version, aggregated discovery) for kubectl to resolve `pods`.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { decodeBodyDetailed, readBody } from '../../src/apiserver/decode/body.ts';
import { parseFieldValidation, validateFields } from '../../src/apiserver/decode/fields.ts';
import { handleOpenAPI } from '../../src/apiserver/openapi/handler.ts';
import { decodeSwaggerProto } from '../../src/apiserver/openapi/v2proto.ts';
import { toStatusError } from '../../src/util/status.ts';
import { resourceSpecs } from '../../src/apiserver/openapi/resources.ts';
import { builtinKinds } from '../../src/registry/kinds.ts';

const servedResources = resourceSpecs(builtinKinds);

const kubectl = '/usr/bin/kubectl';
const discoveryType = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

function discovery(core: boolean): unknown {
  const byGroup = new Map<string, typeof servedResources[number][]>();
  for (const r of servedResources) {
    if ((r.group === '') !== core) continue;
    byGroup.set(r.group, [...(byGroup.get(r.group) ?? []), r]);
  }
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: 'apidiscovery.k8s.io/v2',
    metadata: {},
    items: [...byGroup].map(([group, rs]) => ({
      metadata: group ? { name: group } : { creationTimestamp: null },
      versions: [{
        version: 'v1',
        freshness: 'Current',
        resources: rs.map((r) => ({
          resource: r.plural,
          singularResource: r.kind.toLowerCase(),
          scope: r.namespaced ? 'Namespaced' : 'Cluster',
          responseKind: { group: r.group, version: r.version, kind: r.kind },
          verbs: [...r.verbs],
        })),
      }],
    })),
  };
}

interface Seen {
  url: string;
  status: number;
}

describe('kubectl explain against the OpenAPI v3 documents', { timeout: 60_000 }, () => {
  let server: Server;
  let dir: string;
  let kubeconfig: string;
  const seen: Seen[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tk-explain-'));
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      res.on('finish', () => seen.push({ url: url.pathname + url.search, status: res.statusCode }));
      if (url.pathname === '/version') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ major: '1', minor: '32', gitVersion: 'v1.32.4', gitCommit: '0'.repeat(40), gitTreeState: 'clean', buildDate: '2025-04-22T16:03:37Z', goVersion: 'go1.23.8', compiler: 'gc', platform: 'linux/amd64' }));
        return;
      }
      if (url.pathname === '/api' || url.pathname === '/apis') {
        res.writeHead(200, { 'Content-Type': discoveryType });
        res.end(JSON.stringify(discovery(url.pathname === '/api')));
        return;
      }
      if (handleOpenAPI(req, res, url.pathname, url.searchParams)) return;
      if (req.method === 'POST' && url.pathname === '/api/v1/namespaces/default/pods') {
        // Just enough of a create to show kubectl's strict validation path end to end.
        readBody(req).then((body) => {
          const d = decodeBodyDetailed(req.headers['content-type'], body);
          const { warnings } = validateFields({ group: '', version: 'v1', kind: 'Pod' }, d.object, parseFieldValidation(url.searchParams.get('fieldValidation')), d.duplicateFields);
          const headers: Record<string, string | string[]> = { 'Content-Type': 'application/json' };
          if (warnings.length > 0) headers.Warning = warnings.map((w) => `299 - ${JSON.stringify(w)}`);
          res.writeHead(201, headers);
          res.end(JSON.stringify(d.object));
        }).catch((err: unknown) => {
          const e = toStatusError(err);
          res.writeHead(e.code, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify(e.toStatus()));
        });
        return;
      }
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('404 page not found');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, [
      'apiVersion: v1', 'kind: Config', 'current-context: t',
      'clusters:', '- name: t', '  cluster:', `    server: http://127.0.0.1:${port}`,
      'contexts:', '- name: t', '  context:', '    cluster: t', '    user: u',
      'users:', '- name: u', '  user: {}', '',
    ].join('\n'));
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  function run(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
    return new Promise((resolve) => {
      execFile(kubectl, ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args], { env: { ...process.env, HOME: dir } }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ stdout, stderr, code });
      });
    });
  }

  it('explains pods with KIND, VERSION, DESCRIPTION and the top-level fields', async () => {
    const r = await run('explain', 'pods');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^KIND:\s+Pod\nVERSION:\s+v1\n/);
    assert.match(r.stdout, /DESCRIPTION:\n\s+Pod is a collection of containers that can run on a host\./);
    assert.match(r.stdout, /FIELDS:\n/);
    assert.match(r.stdout, /\n {2}apiVersion\t<string>\n/);
    assert.match(r.stdout, /\n {2}metadata\t<ObjectMeta>\n/);
    assert.match(r.stdout, /\n {2}spec\t<PodSpec>\n/);
    assert.match(r.stdout, /\n {2}status\t<PodStatus>\n/);
  });

  it('explains pod.spec, marking required fields', async () => {
    const r = await run('explain', 'pod.spec');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^KIND:\s+Pod\nVERSION:\s+v1\n\nFIELD: spec <PodSpec>\n/);
    assert.match(r.stdout, /\n {2}containers\t<\[\]Container> -required-\n/);
    assert.match(r.stdout, /\n {2}restartPolicy\t<string>\n/);
    assert.match(r.stdout, /\n {2}nodeSelector\t<map\[string\]string>\n/);
    assert.match(r.stdout, /\n {2}overhead\t<map\[string\]Quantity>\n/);
  });

  it('explains pod.spec.containers.livenessProbe with the field description', async () => {
    const r = await run('explain', 'pod.spec.containers.livenessProbe');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^KIND:\s+Pod\nVERSION:\s+v1\n\nFIELD: livenessProbe <Probe>\n/);
    assert.match(r.stdout, /DESCRIPTION:\n\s+Periodic probe of container liveness\./);
    assert.match(r.stdout, /\n {2}initialDelaySeconds\t<integer>\n/);
    assert.match(r.stdout, /\n {2}httpGet\t<HTTPGetAction>\n/);
  });

  it('explains a lease from the coordination.k8s.io/v1 document', async () => {
    const r = await run('explain', 'leases.spec');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^GROUP:\s+coordination\.k8s\.io\nKIND:\s+Lease\nVERSION:\s+v1\n/);
    assert.match(r.stdout, /\n {2}holderIdentity\t<string>\n/);
    assert.match(r.stdout, /\n {2}renewTime\t<string>\n/);
  });

  it('create -f: kubectl asks for Strict validation and prints the apiserver-style error', async () => {
    // The seed walkthrough's probe, with its misspelt initialDelaySeconds.
    const manifest = join(dir, 'pod.yaml');
    writeFileSync(manifest, [
      'apiVersion: v1', 'kind: Pod', 'metadata:', '  name: linkding', 'spec:', '  containers:',
      '  - image: sissbruecker/linkding:latest', '    name: linkding', '    livenessProbe:', '      httpGet:', '        path: /healthy', '        port: 9090',
      '      initialDeleySeconds: 5', '      timeoutSeconds: 1', '    ports:', '    - containerPort: 9090', '      protocol: TCP', '',
    ].join('\n'));
    const strict = await run('create', '-f', manifest);
    assert.notEqual(strict.code, 0);
    assert.equal(strict.stderr.trim(), `Error from server (BadRequest): error when creating "${manifest}": Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.containers[0].livenessProbe.initialDeleySeconds"`);
    assert.ok(seen.some((s) => s.url.startsWith('/api/v1/namespaces/default/pods?') && s.url.includes('fieldValidation=Strict') && s.status === 400));
    const warn = await run('create', '--validate=warn', '-f', manifest);
    assert.equal(warn.code, 0, warn.stderr);
    assert.match(warn.stderr, /Warning: unknown field "spec.containers\[0\].livenessProbe.initialDeleySeconds"/);
    assert.match(warn.stdout, /pod\/linkding created/);
  });

  it('explain --output=plaintext-openapiv2 reads /openapi/v2 as protobuf', async () => {
    const r = await run('explain', 'pods', '--output=plaintext-openapiv2');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^KIND:\s+Pod\nVERSION:\s+v1\n/);
    assert.match(r.stdout, /DESCRIPTION:\n\s+Pod is a collection of containers that can run on a host\./);
    assert.match(r.stdout, /\n {3}spec\t<Object>\n/);
    const nested = await run('explain', 'pod.spec.containers.livenessProbe', '--output=plaintext-openapiv2');
    assert.equal(nested.code, 0, nested.stderr);
    assert.match(nested.stdout, /RESOURCE:\s+livenessProbe <Object>/);
    assert.match(nested.stdout, /initialDelaySeconds\t<integer>/);
    const events = await run('explain', 'events', '--api-version=events.k8s.io/v1', '--output=plaintext-openapiv2');
    assert.equal(events.code, 0, events.stderr);
    assert.match(events.stdout, /^KIND:\s+Event\nVERSION:\s+events\.k8s\.io\/v1\n/);
    assert.match(events.stdout, /\n {3}regarding\t<Object>\n/);
    assert.ok(seen.some((s) => s.url.startsWith('/openapi/v2') && s.status === 200));
  });

  it('serves /openapi/v2 as JSON or protobuf by Accept, with an ETag for both and 406 otherwise', async () => {
    const { port } = server.address() as AddressInfo;
    const url = `http://127.0.0.1:${port}/openapi/v2`;
    const json = await fetch(url, { headers: { accept: 'application/json' } });
    assert.equal(json.status, 200);
    assert.equal(json.headers.get('content-type'), 'application/json');
    assert.equal(json.headers.get('vary'), 'Accept, Accept-Encoding');
    const doc = await json.json() as { swagger: string; paths: Record<string, Record<string, { parameters?: Array<{ in: string; schema?: { $ref: string } }> }>>; definitions: Record<string, { properties?: Record<string, { $ref?: string; allOf?: unknown }> }> };
    assert.equal(doc.swagger, '2.0');
    assert.deepEqual(doc.paths['/api/v1/namespaces/{namespace}/pods']!.post!.parameters![0], { name: 'body', in: 'body', required: true, schema: { $ref: '#/definitions/io.k8s.api.core.v1.Pod' } });
    const meta = doc.definitions['io.k8s.api.core.v1.Pod']!.properties!.metadata!;
    assert.equal(meta.$ref, '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
    assert.equal(meta.allOf, undefined);
    const etag = json.headers.get('etag');
    assert.match(etag ?? '', /^"[0-9A-F]{128}"$/);

    const proto = await fetch(url, { headers: { accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' } });
    assert.equal(proto.status, 200);
    assert.equal(proto.headers.get('content-type'), 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
    assert.equal(proto.headers.get('etag'), etag);
    const back = decodeSwaggerProto(new Uint8Array(await proto.arrayBuffer())) as { swagger: string; definitions: { additional_properties: Array<{ name: string; value: { vendor_extension?: Array<{ name: string; value: { yaml: string } }> } }> } };
    assert.equal(back.swagger, '2.0');
    const pod = back.definitions.additional_properties.find((d) => d.name === 'io.k8s.api.core.v1.Pod');
    const gvk = pod?.value.vendor_extension?.find((e) => e.name === 'x-kubernetes-group-version-kind');
    assert.deepEqual(JSON.parse(gvk?.value.yaml ?? 'null'), [{ group: '', kind: 'Pod', version: 'v1' }]);

    assert.equal((await fetch(url, { headers: { 'if-none-match': etag! } })).status, 304);
    assert.equal((await fetch(url, { headers: { accept: 'text/html' } })).status, 406);
  });

  it('fetched the hashed document once and served it from cache afterwards', () => {
    const docFetches = seen.filter((s) => s.url.startsWith('/openapi/v3/api/v1?hash='));
    assert.equal(docFetches.length, 1, JSON.stringify(seen));
    assert.equal(docFetches[0].status, 200);
    assert.ok(seen.filter((s) => s.url.startsWith('/openapi/v3?')).length >= 3);
  });

  it('serves gzip when asked and 304 on a matching ETag', async () => {
    const { port } = server.address() as AddressInfo;
    const index = await (await fetch(`http://127.0.0.1:${port}/openapi/v3`)).json() as { paths: Record<string, { serverRelativeURL: string }> };
    const url = `http://127.0.0.1:${port}${index.paths['api/v1'].serverRelativeURL}`;
    const raw = await new Promise<{ headers: Record<string, string | string[] | undefined>; body: Buffer }>((resolve, reject) => {
      import('node:http').then(({ get }) => {
        get(url, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
        }).on('error', reject);
      }, reject);
    });
    assert.equal(raw.headers['content-encoding'], 'gzip');
    assert.equal(raw.headers['cache-control'], 'public, immutable');
    const doc = JSON.parse(gunzipSync(raw.body).toString()) as { openapi: string };
    assert.equal(doc.openapi, '3.0.0');
    const etag = String(raw.headers.etag);
    const again = await fetch(url, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
  });
});
