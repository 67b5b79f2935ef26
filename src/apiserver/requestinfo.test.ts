import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseRequestInfo } from './requestinfo.ts';

describe('parseRequestInfo: list or watch', () => {
  // kube-apiserver decodes ListOptions with the parameter codec: `watch` is true unless absent, "0" or "false" (any case).
  const cases: [string, string][] = [
    ['', 'list'],
    ['watch=true', 'watch'],
    ['watch=True', 'watch'], // the Python client
    ['watch=1', 'watch'],
    ['watch', 'watch'],
    ['watch=', 'watch'],
    ['watch=yes', 'watch'],
    ['watch=false', 'list'],
    ['watch=False', 'list'],
    ['watch=0', 'list'],
  ];
  for (const [query, verb] of cases) {
    it(`GET pods?${query} is ${verb}`, () => {
      const info = parseRequestInfo('GET', '/api/v1/namespaces/default/pods', new URLSearchParams(query));
      assert.equal(info.kind === 'resource' && info.verb, verb);
    });
  }
  it('a named GET stays a get', () => {
    const info = parseRequestInfo('GET', '/api/v1/namespaces/default/pods/web', new URLSearchParams('watch=True'));
    assert.equal(info.kind === 'resource' && info.verb, 'get');
  });
});
