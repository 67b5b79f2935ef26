import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CertificateSigningRequest } from '../../../api/certificates/csr.ts';
import { printCertificateSigningRequest } from './printer.ts';

const NOW = Date.parse('2025-01-01T02:00:00Z');

test('CSR rows: requestor, requested duration and the condition as kubectl prints them', () => {
  const csr = (spec: Partial<CertificateSigningRequest['spec']>, status?: CertificateSigningRequest['status']): CertificateSigningRequest => ({
    metadata: { name: 'c', creationTimestamp: '2025-01-01T01:00:00Z' },
    spec: { request: '', signerName: 'kubernetes.io/kube-apiserver-client', username: 'alice', ...spec },
    ...(status ? { status } : {}),
  });
  const cases: Array<{ what: string; c: CertificateSigningRequest; want: unknown[] }> = [
    { what: 'pending', c: csr({}), want: ['c', '60m', 'kubernetes.io/kube-apiserver-client', 'alice', '<none>', 'Pending'] },
    { what: 'a day requested', c: csr({ expirationSeconds: 86400 }), want: ['c', '60m', 'kubernetes.io/kube-apiserver-client', 'alice', '24h', 'Pending'] },
    { what: 'approved and issued', c: csr({}, { conditions: [{ type: 'Approved', status: 'True' }], certificate: 'eA==' }), want: ['c', '60m', 'kubernetes.io/kube-apiserver-client', 'alice', '<none>', 'Approved,Issued'] },
    { what: 'approved, failed', c: csr({}, { conditions: [{ type: 'Approved', status: 'True' }, { type: 'Failed', status: 'True' }] }), want: ['c', '60m', 'kubernetes.io/kube-apiserver-client', 'alice', '<none>', 'Approved,Failed'] },
    { what: 'denied wins', c: csr({}, { conditions: [{ type: 'Approved', status: 'True' }, { type: 'Denied', status: 'True' }] }), want: ['c', '60m', 'kubernetes.io/kube-apiserver-client', 'alice', '<none>', 'Denied'] },
    { what: 'no signer', c: csr({ signerName: '' }), want: ['c', '60m', '<none>', 'alice', '<none>', 'Pending'] },
  ];
  for (const k of cases) assert.deepEqual(printCertificateSigningRequest(k.c, NOW).cells, k.want, k.what);
});
