import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeObject } from './decoding.ts';
import { namespaces } from '../registry/core/namespaces/kind.ts';
import { StatusError } from '../util/status.ts';

describe('decodeObject: kube-apiserver wording for bodies it cannot read', () => {
  const cases: [string, string][] = [
    ['{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a"}', `the object provided is unrecognized (must be of type Namespace): couldn't get version/kind; json parse error: unexpected end of JSON input ({"apiVersion":"v1","kind":"Nam ...)`],
    ['{"kind":Namespace}', `the object provided is unrecognized (must be of type Namespace): couldn't get version/kind; json parse error: invalid character 'N' looking for beginning of value ({"kind":Namespace})`],
    ['nope', `the object provided is unrecognized (must be of type Namespace): couldn't get version/kind; json parse error: invalid character 'o' in literal null (expecting 'u') (6e6f7065)`],
  ];
  for (const [body, want] of cases) {
    it(JSON.stringify(body), () => {
      assert.throws(() => decodeObject(namespaces, 'application/json', Buffer.from(body), null), (err: unknown) => {
        assert.ok(err instanceof StatusError);
        assert.equal(err.code, 400);
        assert.equal(err.message, want);
        return true;
      });
    });
  }
});
