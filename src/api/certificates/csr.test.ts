import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkCsrSignature, createCsr, parseCsr } from './csr.ts';

test('challengePassword: carried in the signed request when asked for, absent otherwise', async () => {
  const cases: Array<{ what: string; password?: string; hosts: string[] }> = [
    { what: 'a bootstrap request with its node password', password: '0123456789abcdef0123456789abcdef', hosts: [] },
    { what: 'with SANs beside it', password: 'pw', hosts: ['n1', '10.0.0.1'] },
    { what: 'a renewal without one', hosts: [] },
  ];
  for (const c of cases) {
    const { csrPem } = await createCsr({ commonName: 'system:node:n1', organizations: ['system:nodes'] }, c.hosts, { challengePassword: c.password });
    const p = parseCsr(csrPem);
    assert.equal(p.challengePassword, c.password, c.what);
    assert.equal(checkCsrSignature(p), undefined, c.what);
    assert.deepEqual([...p.dnsNames, ...p.ipAddresses], c.hosts, c.what);
  }
});
