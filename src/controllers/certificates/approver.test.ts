import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCsr, parseCsr, type CertificateSigningRequest } from '../../api/certificates/csr.ts';
import type { Node } from '../../api/types.ts';
import { decideApproval, subjectAccessReviewAuthorizer, type ApprovalPermission } from './approver.ts';

const CLIENT = 'kubernetes.io/kube-apiserver-client-kubelet';
const SERVING = 'kubernetes.io/kubelet-serving';
const BOOTSTRAP = { username: 'system:bootstrap:node', groups: ['system:bootstrappers', 'system:authenticated'] };
const NODE_A = { username: 'system:node:a', groups: ['system:nodes', 'system:authenticated'] };
const NODE_B = { username: 'system:node:b', groups: ['system:nodes', 'system:authenticated'] };
const ALICE = { username: 'alice', groups: ['system:authenticated'] };

const nodes: Record<string, Node> = {
  a: { metadata: { name: 'a' }, status: { addresses: [{ type: 'InternalIP', address: '10.0.0.1' }, { type: 'Hostname', address: 'a' }] } },
  b: { metadata: { name: 'b' }, status: { addresses: [{ type: 'InternalIP', address: '10.0.0.2' }, { type: 'Hostname', address: 'b' }] } },
};

interface Case {
  what: string;
  cn: string;
  orgs?: string[];
  hosts?: string[];
  signer: string;
  usages: string[];
  by: { username: string; groups: string[] };
  want: string | false;
}

const cases: Case[] = [
  { what: 'a new node joining with the bootstrap token', cn: 'system:node:a', signer: CLIENT, usages: ['digital signature', 'client auth'], by: BOOTSTRAP, want: 'Auto approving kubelet client certificate after SubjectAccessReview.' },
  { what: 'RSA-style usages (key encipherment) too', cn: 'system:node:a', signer: CLIENT, usages: ['digital signature', 'key encipherment', 'client auth'], by: BOOTSTRAP, want: 'Auto approving kubelet client certificate after SubjectAccessReview.' },
  { what: 'a node renewing its own', cn: 'system:node:a', signer: CLIENT, usages: ['digital signature', 'client auth'], by: NODE_A, want: 'Auto approving self kubelet client certificate after SubjectAccessReview.' },
  { what: 'a node asking for another node', cn: 'system:node:b', signer: CLIENT, usages: ['digital signature', 'client auth'], by: NODE_A, want: false },
  { what: 'a user asking for a node identity', cn: 'system:node:a', signer: CLIENT, usages: ['digital signature', 'client auth'], by: ALICE, want: false },
  { what: 'a client request with server auth', cn: 'system:node:a', signer: CLIENT, usages: ['digital signature', 'client auth', 'server auth'], by: BOOTSTRAP, want: false },
  { what: 'a client request in group system:masters', cn: 'system:node:a', orgs: ['system:masters'], signer: CLIENT, usages: ['digital signature', 'client auth'], by: BOOTSTRAP, want: false },
  { what: 'a client request with a SAN', cn: 'system:node:a', hosts: ['a'], signer: CLIENT, usages: ['digital signature', 'client auth'], by: BOOTSTRAP, want: false },
  { what: 'a CN outside system:node:', cn: 'admin', signer: CLIENT, usages: ['digital signature', 'client auth'], by: BOOTSTRAP, want: false },
  { what: 'the user signer is never auto-approved', cn: 'alice', orgs: [], signer: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'], by: ALICE, want: false },
  { what: 'serving: own name and address', cn: 'system:node:a', hosts: ['a', '10.0.0.1'], signer: SERVING, usages: ['digital signature', 'server auth'], by: NODE_A, want: "Auto approving kubelet serving certificate: its names are its node's name and addresses." },
  { what: 'serving: another node\'s name', cn: 'system:node:a', hosts: ['a', 'b'], signer: SERVING, usages: ['digital signature', 'server auth'], by: NODE_A, want: false },
  { what: 'serving: another node\'s address', cn: 'system:node:a', hosts: ['10.0.0.2'], signer: SERVING, usages: ['digital signature', 'server auth'], by: NODE_A, want: false },
  { what: 'serving: in another node\'s name', cn: 'system:node:b', hosts: ['b'], signer: SERVING, usages: ['digital signature', 'server auth'], by: NODE_A, want: false },
  { what: 'serving: asked with the bootstrap token', cn: 'system:node:a', hosts: ['a'], signer: SERVING, usages: ['digital signature', 'server auth'], by: BOOTSTRAP, want: false },
  { what: 'serving: for a node that does not exist', cn: 'system:node:c', hosts: ['c'], signer: SERVING, usages: ['digital signature', 'server auth'], by: { username: 'system:node:c', groups: ['system:nodes'] }, want: false },
  { what: 'serving: client usages', cn: 'system:node:a', hosts: ['a'], signer: SERVING, usages: ['digital signature', 'client auth'], by: NODE_A, want: false },
  { what: 'serving: node b for its own name and address', cn: 'system:node:b', hosts: ['b', '10.0.0.2'], signer: SERVING, usages: ['digital signature', 'server auth'], by: NODE_B, want: "Auto approving kubelet serving certificate: its names are its node's name and addresses." },
];

/**
 * The SubjectAccessReviews answered as the default bindings decide (nodeclient: group system:bootstrappers, the join token's;
 * selfnodeclient: group system:nodes), recorded so a test can see what was asked.
 */
const asked: unknown[] = [];
const authorize = subjectAccessReviewAuthorizer({
  async create<T>(_ref: unknown, _ns: unknown, body: T): Promise<T> {
    const spec = (body as { spec: { user: string; groups: string[]; resourceAttributes: { subresource: ApprovalPermission } } }).spec;
    asked.push(spec);
    const sub = spec.resourceAttributes.subresource;
    const allowed = (sub === 'nodeclient' && spec.groups.includes('system:bootstrappers')) || (sub === 'selfnodeclient' && spec.groups.includes('system:nodes'));
    return { ...body, status: { allowed } };
  },
} as never);

test('the approver approves exactly the kubelet requests kube (and k3s, for serving) approves', async () => {
  for (const c of cases) {
    const { csrPem } = await createCsr({ commonName: c.cn, organizations: c.orgs ?? ['system:nodes'] }, c.hosts ?? []);
    const csr: CertificateSigningRequest = { metadata: { name: 'x' }, spec: { request: Buffer.from(csrPem).toString('base64'), signerName: c.signer, usages: c.usages, ...c.by } };
    const d = await decideApproval(csr, parseCsr(csrPem), (n) => nodes[n], authorize);
    assert.equal(d.approve ? d.message : false, c.want, `${c.what}: ${d.approve ? '' : d.why}`);
  }
});

test('a client request is judged by SubjectAccessReviews for its requestor: selfnodeclient first, then nodeclient', async () => {
  const { csrPem } = await createCsr({ commonName: 'system:node:a', organizations: ['system:nodes'] });
  const csr: CertificateSigningRequest = {
    metadata: { name: 'x' },
    spec: { request: Buffer.from(csrPem).toString('base64'), signerName: CLIENT, usages: ['digital signature', 'client auth'], username: 'system:node:a', uid: 'u-1', groups: ['system:authenticated'], extra: { 'scopes.example': ['a'] } },
  };
  asked.length = 0;
  const d = await decideApproval(csr, parseCsr(csrPem), (n) => nodes[n], authorize);
  assert.deepEqual(d, { approve: false, why: 'recognized csr as [selfnodeclient nodeclient] but subject access review was not approved' });
  const attrs = (sub: string) => ({ group: 'certificates.k8s.io', resource: 'certificatesigningrequests', subresource: sub, verb: 'create', version: '*' });
  const who = { user: 'system:node:a', uid: 'u-1', groups: ['system:authenticated'], extra: { 'scopes.example': ['a'] } };
  assert.deepEqual(asked, [{ ...who, resourceAttributes: attrs('selfnodeclient') }, { ...who, resourceAttributes: attrs('nodeclient') }]);
});
