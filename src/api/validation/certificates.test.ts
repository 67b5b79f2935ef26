import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCsr, type CertificateSigningRequest } from '../certificates/csr.ts';
import { fieldErrorMessage } from '../field.ts';
import {
  goBytes,
  validateCertificateSigningRequest,
  validateCertificateSigningRequestApprovalUpdate,
  validateCertificateSigningRequestStatusUpdate,
  validateCertificateSigningRequestUpdate,
} from './certificates.ts';

const { csrPem } = await createCsr({ commonName: 'alice', organizations: ['dev'] });
const request = Buffer.from(csrPem).toString('base64');

function csr(patch: Partial<CertificateSigningRequest['spec']> = {}, status?: CertificateSigningRequest['status']): CertificateSigningRequest {
  return { metadata: { name: 'c' }, spec: { request, signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'], ...patch }, ...(status ? { status } : {}) };
}

const messages = (errs: ReturnType<typeof validateCertificateSigningRequest>) => errs.map((e) => `${e.field}: ${fieldErrorMessage(e)}`);

// A request whose signature no longer matches: one byte of the signed subject changed.
function tampered(): string {
  const der = Buffer.from(csrPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  const i = der.indexOf(Buffer.from('alice'));
  der[i] = 'A'.charCodeAt(0);
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return Buffer.from(`-----BEGIN CERTIFICATE REQUEST-----\n${b64}\n-----END CERTIFICATE REQUEST-----\n`).toString('base64');
}

test('create validation: kube-apiserver messages for each bad field', () => {
  const cases: Array<{ what: string; obj: CertificateSigningRequest; want: string[] }> = [
    { what: 'valid', obj: csr(), want: [] },
    { what: 'no signerName', obj: csr({ signerName: '' }), want: ['spec.signerName: Required value'] },
    { what: 'signer without path', obj: csr({ signerName: 'example.com' }), want: ["spec.signerName: Invalid value: \"example.com\": must be a fully qualified domain and path of the form 'example.com/signer-name'"] },
    { what: 'signer domain of one label', obj: csr({ signerName: 'example/x' }), want: ['spec.signerName: Invalid value: "example": should be a domain with at least two segments separated by dots'] },
    {
      what: 'signer path not a subdomain',
      obj: csr({ signerName: 'example.com/Bad_Name' }),
      want: ["spec.signerName: Invalid value: \"Bad_Name\": validating label \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"],
    },
    { what: 'legacy signer', obj: csr({ signerName: 'kubernetes.io/legacy-unknown' }), want: ['spec.signerName: Invalid value: "kubernetes.io/legacy-unknown": the legacy signerName is not allowed via this API version'] },
    { what: 'no usages', obj: csr({ usages: [] }), want: ['spec.usages: Required value'] },
    { what: 'duplicate usage', obj: csr({ usages: ['client auth', 'client auth'] }), want: ['spec.usages[1]: Duplicate value: "client auth"'] },
    { what: 'expiration too short', obj: csr({ expirationSeconds: 599 }), want: ['spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 600 seconds (10 minutes)'] },
    { what: 'expiration of ten minutes', obj: csr({ expirationSeconds: 600 }), want: [] },
    { what: 'not a CSR', obj: csr({ request: Buffer.from('hi').toString('base64') }), want: ['spec.request: Invalid value: []byte{0x68, 0x69}: PEM block type must be CERTIFICATE REQUEST'] },
    { what: 'no request', obj: csr({ request: '' }), want: ['spec.request: Invalid value: []byte(nil): PEM block type must be CERTIFICATE REQUEST'] },
    { what: 'bad signature', obj: csr({ request: tampered() }), want: ['x509: ECDSA verification failure'] },
    { what: 'Approved and Denied', obj: csr({}, { conditions: [{ type: 'Approved', status: 'True' }, { type: 'Denied', status: 'True' }] }), want: ['status.conditions[1].type: Invalid value: "Denied": Approved and Denied conditions are mutually exclusive'] },
    { what: 'Failed False', obj: csr({}, { conditions: [{ type: 'Failed', status: 'False' }] }), want: ['status.conditions[0].status: Unsupported value: "False": supported values: "True"'] },
  ];
  for (const c of cases) {
    const got = messages(validateCertificateSigningRequest(c.obj));
    // The bad value of a tampered request is its whole PEM in Go's []byte form: only its ends are compared.
    if (c.what === 'bad signature') assert.ok(got.length === 1 && got[0]!.startsWith('spec.request: Invalid value: []byte{0x2d') && got[0]!.endsWith(c.want[0]!), `${c.what}: ${got}`);
    else assert.deepEqual(got, c.want, c.what);
  }
  const unknown = messages(validateCertificateSigningRequest(csr({ usages: ['flying'] })));
  assert.equal(unknown.length, 1);
  assert.match(unknown[0]!, /^spec\.usages\[0\]: Unsupported value: "flying": supported values: "any", "cert sign", "client auth",/);
});

test('goBytes prints as Go %#v', () => {
  assert.equal(goBytes(Buffer.from([0x2d, 0x0a, 0xff])).text, '[]byte{0x2d, 0xa, 0xff}');
  assert.equal(goBytes(Buffer.alloc(0)).text, '[]byte{}');
});

test('updates: approval conditions only through approval, the certificate only through status and only once', () => {
  const cert = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIBfzCCASWgAwIBAgIUJ\n-----END CERTIFICATE-----\n').toString('base64');
  const approved = { conditions: [{ type: 'Approved', status: 'True', reason: 'r' }] };
  const cases: Array<{ what: string; fn: typeof validateCertificateSigningRequestUpdate; next: CertificateSigningRequest; old: CertificateSigningRequest; want: string[] }> = [
    { what: 'main update may not approve', fn: validateCertificateSigningRequestUpdate, next: csr({}, approved), old: csr(), want: ['status.conditions: Forbidden: updates may not add a condition of type "Approved"'] },
    { what: 'status update may not approve', fn: validateCertificateSigningRequestStatusUpdate, next: csr({}, approved), old: csr(), want: ['status.conditions: Forbidden: updates may not add a condition of type "Approved"'] },
    { what: 'approval adds Approved', fn: validateCertificateSigningRequestApprovalUpdate, next: csr({}, approved), old: csr(), want: [] },
    { what: 'nobody removes Approved', fn: validateCertificateSigningRequestApprovalUpdate, next: csr({}, { conditions: [] }), old: csr({}, approved), want: ['status.conditions: Forbidden: updates may not remove a condition of type "Approved"'] },
    { what: 'approval may not set the certificate', fn: validateCertificateSigningRequestApprovalUpdate, next: csr({}, { ...approved, certificate: cert }), old: csr({}, approved), want: ['status.certificate: Invalid value: "<certificate data>": x509: malformed certificate', 'status.certificate: Forbidden: updates may not set certificate content'] },
    { what: 'a certificate must parse', fn: validateCertificateSigningRequestStatusUpdate, next: csr({}, { ...approved, certificate: cert }), old: csr({}, approved), want: ['status.certificate: Invalid value: "<certificate data>": x509: malformed certificate'] },
    { what: 'not PEM', fn: validateCertificateSigningRequestStatusUpdate, next: csr({}, { ...approved, certificate: Buffer.from('x').toString('base64') }), old: csr({}, approved), want: ['status.certificate: Invalid value: "<certificate data>": must contain at least one CERTIFICATE PEM block'] },
  ];
  for (const c of cases) assert.deepEqual(messages(c.fn(c.next, c.old)), c.want, c.what);
});
