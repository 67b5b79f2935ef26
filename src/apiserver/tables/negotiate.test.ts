import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { negotiateOutput, negotiateTable, parseAccept, wantsTable } from './negotiate.ts';

const KUBECTL_GET = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

describe('Accept negotiation', () => {
  const cases: Array<[string, string | undefined, ReturnType<typeof negotiateOutput>]> = [
    ['kubectl get', KUBECTL_GET, { mediaType: 'application/json', pretty: false, convert: { kind: 'Table', version: 'v1' } }],
    ['v1beta1 only', 'application/json;as=Table;v=v1beta1;g=meta.k8s.io', { mediaType: 'application/json', pretty: false, convert: { kind: 'Table', version: 'v1beta1' } }],
    ['plain JSON', 'application/json', { mediaType: 'application/json', pretty: false }],
    ['no header', undefined, { mediaType: 'application/json', pretty: false }],
    ['empty header', '', { mediaType: 'application/json', pretty: false }],
    ['anything', '*/*', { mediaType: 'application/json', pretty: false }],
    ['kubectl create (protobuf first, which is not served)', 'application/vnd.kubernetes.protobuf,application/json', { mediaType: 'application/json', pretty: false }],
    ['protobuf Table skipped for the JSON Table', `application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io,${KUBECTL_GET}`, { mediaType: 'application/json', pretty: false, convert: { kind: 'Table', version: 'v1' } }],
    ['q order beats header order', 'application/json;as=Table;v=v1;g=meta.k8s.io;q=0.5,application/json', { mediaType: 'application/json', pretty: false }],
    ['specific before wildcard at equal q', '*/*,application/json;as=Table;v=v1;g=meta.k8s.io', { mediaType: 'application/json', pretty: false, convert: { kind: 'Table', version: 'v1' } }],
    ['unknown meta version skipped', 'application/json;as=Table;v=v2;g=meta.k8s.io,application/json', { mediaType: 'application/json', pretty: false }],
    ['Table in YAML', 'application/yaml;as=Table;v=v1;g=meta.k8s.io', { mediaType: 'application/yaml', pretty: false, convert: { kind: 'Table', version: 'v1' } }],
    ['subtype wildcard', 'application/*;as=Table;g=meta.k8s.io;v=v1', { mediaType: 'application/json', pretty: false, convert: { kind: 'Table', version: 'v1' } }],
    ['metadata-only list', 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json', { mediaType: 'application/json', pretty: false, convert: { kind: 'PartialObjectMetadataList', version: 'v1' } }],
    ['pretty', 'application/json;pretty=1', { mediaType: 'application/json', pretty: true }],
    ['spaces around parameters', ' application/json ; as=Table ; v=v1 ; g=meta.k8s.io ', { mediaType: 'application/json', pretty: false, convert: { kind: 'Table', version: 'v1' } }],
    ['unknown conversion only', 'application/json;as=Foo;v=v1;g=meta.k8s.io', undefined],
    ['version without group', 'application/json;v=v1', undefined],
    ['nothing served', 'text/html', undefined],
  ];
  for (const [name, accept, want] of cases) {
    it(name, () => assert.deepEqual(negotiateOutput(accept), want));
  }

  it('wantsTable / negotiateTable', () => {
    assert.equal(wantsTable(KUBECTL_GET), true);
    assert.equal(wantsTable('application/json'), false);
    assert.equal(wantsTable(undefined), false);
    assert.equal(wantsTable('application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io'), false);
    assert.deepEqual(negotiateTable('application/json;as=Table;v=v1beta1;g=meta.k8s.io'), { version: 'v1beta1', mediaType: 'application/json' });
    // A watch can only be streamed as JSON: YAML Tables are then not acceptable.
    assert.equal(negotiateTable('application/yaml;as=Table;v=v1;g=meta.k8s.io', ['application/json']), undefined);
  });

  it('parseAccept keeps q=0 clauses last and drops malformed ranges', () => {
    const clauses = parseAccept('application/json;q=0,text/plain;q=0.8,garbage,application/yaml');
    assert.deepEqual(clauses.map((c) => [`${c.type}/${c.subType}`, c.q]), [['application/yaml', 1], ['text/plain', 0.8], ['application/json', 0]]);
  });
});
