import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OpenAPIDocuments } from './documents.ts';
import { resourceSpecs } from './resources.ts';
import { toV2Schema } from './v2.ts';
import { decodeSwaggerProto } from './v2proto.ts';
import { builtinKinds } from '../../registry/kinds.ts';

describe('openapi v2: schemas as kube-apiserver writes them in Swagger 2.0', () => {
  const cases: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
    ['a wrapped reference becomes a plain $ref and loses its default {}',
      { description: 'd', default: {}, allOf: [{ $ref: '#/components/schemas/io.k8s.api.core.v1.PodSpec' }] },
      { description: 'd', $ref: '#/definitions/io.k8s.api.core.v1.PodSpec' }],
    ['references inside items and additionalProperties',
      { type: 'object', additionalProperties: { type: 'array', items: { allOf: [{ $ref: '#/components/schemas/X' }] } } },
      { type: 'object', additionalProperties: { type: 'array', items: { $ref: '#/definitions/X' } } }],
    ['IntOrString: oneOf becomes a string with its format', { format: 'int-or-string', oneOf: [{ type: 'integer' }, { type: 'string' }] }, { format: 'int-or-string', type: 'string' }],
    ['nullable dropped, a real default and extensions kept',
      { type: 'string', nullable: true, default: 'a', 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-patch-merge-key': 'name' },
      { type: 'string', default: 'a', 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-patch-merge-key': 'name' }],
  ];
  for (const [name, v3, want] of cases) it(name, () => assert.deepEqual(toV2Schema(v3), want));
});

describe('openapi v2: the document', () => {
  const docs = new OpenAPIDocuments(resourceSpecs(builtinKinds));
  const v2 = docs.v2();
  const doc = JSON.parse(v2.json.toString()) as { swagger: string; paths: Record<string, Record<string, Record<string, unknown>>>; definitions: Record<string, Record<string, unknown>> };

  it('is self-contained: every $ref names a definition, nothing refers to components', () => {
    const text = v2.json.toString();
    assert.ok(!text.includes('#/components/'));
    const refs = new Set([...text.matchAll(/"\$ref":"#\/definitions\/([^"]+)"/g)].map((m) => m[1]!));
    assert.ok(refs.size > 50);
    assert.deepEqual([...refs].filter((r) => !doc.definitions[r]), []);
  });

  it('has every served kind with its group-version-kind, and the operations of each resource', () => {
    for (const k of builtinKinds) {
      const i = k.info;
      const found = Object.values(doc.definitions).some((d) => ((d['x-kubernetes-group-version-kind'] ?? []) as Array<Record<string, string>>).some((g) => g.group === i.group && g.version === i.version && g.kind === i.kind));
      assert.ok(found, `${i.kind} ${i.group}/${i.version}`);
    }
    const patch = doc.paths['/api/v1/namespaces/{namespace}/pods/{name}']!.patch!;
    assert.deepEqual(patch.consumes, ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml']);
    assert.deepEqual(patch.produces, ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf']);
    assert.equal(patch['x-kubernetes-action'], 'patch');
    assert.deepEqual((patch.parameters as Array<Record<string, unknown>>)[0], { name: 'body', in: 'body', required: true, schema: { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch' } });
    assert.ok((patch.parameters as Array<Record<string, unknown>>).some((p) => p.name === 'fieldValidation' && p.in === 'query' && p.type === 'string'));
    assert.deepEqual(doc.paths['/api/v1/namespaces/{namespace}/pods']!.get!.consumes, ['*/*']);
  });

  it('decodes from protobuf to the same definitions, extensions as YAML text', () => {
    const back = decodeSwaggerProto(v2.proto()) as { info: { title: string }; definitions: { additional_properties: Array<{ name: string; value: Record<string, unknown> }> }; paths: { path: Array<{ name: string }> } };
    assert.equal(back.info.title, 'Kubernetes');
    assert.deepEqual(back.definitions.additional_properties.map((d) => d.name), Object.keys(doc.definitions));
    assert.deepEqual(back.paths.path.map((p) => p.name), Object.keys(doc.paths));
    const spec = back.definitions.additional_properties.find((d) => d.name === 'io.k8s.api.core.v1.PodSpec')!.value as { properties: { additional_properties: Array<{ name: string; value: { items?: { schema: Array<{ _ref: string }> }; vendor_extension?: Array<{ name: string; value: { yaml: string } }> } }> } };
    const containers = spec.properties.additional_properties.find((p) => p.name === 'containers')!.value;
    assert.equal(containers.items?.schema[0]?._ref, '#/definitions/io.k8s.api.core.v1.Container');
    assert.deepEqual(containers.vendor_extension?.map((e) => [e.name, JSON.parse(e.value.yaml)]), [['x-kubernetes-patch-merge-key', 'name'], ['x-kubernetes-patch-strategy', 'merge']]);
  });

  it('is built once per document set', () => assert.equal(docs.v2(), v2));
});
