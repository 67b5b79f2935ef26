import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getPath, parsePath, setPath } from './jsonpath.ts';

test('simple JSON paths of CRDs', () => {
  const obj = {
    spec: { replicas: 3, list: [{ a: 1 }] },
    metadata: { labels: { 'app.kubernetes.io/name': 'x' } },
    status: { conditions: [{ type: 'Issuing', status: 'False' }, { type: 'Ready', status: 'True', n: 2 }] },
  };
  const cases: Array<[string, unknown]> = [
    ['.spec.replicas', 3],
    ['.spec.list[0].a', 1],
    ['.spec.list[1].a', undefined],
    [".metadata.labels['app.kubernetes.io/name']", 'x'],
    ['.metadata.labels["app.kubernetes.io/name"]', 'x'],
    ['.spec.missing.deeper', undefined],
    ['.status.conditions[?(@.type=="Ready")].status', 'True'],
    [".status.conditions[?(@.type=='Issuing')].status", 'False'],
    ['.status.conditions[?(@.n==2)].type', 'Ready'],
    ['.status.conditions[?(@.type=="Gone")].status', undefined],
  ];
  for (const [path, want] of cases) assert.deepEqual(getPath(obj, parsePath(path)!), want, path);
  for (const bad of ['', 'spec.replicas', '.spec[x]', '.spec..a', '.spec[*]']) assert.equal(parsePath(bad), undefined, bad);
  const o: Record<string, unknown> = { spec: 'not an object' };
  setPath(o, parsePath('.spec.replicas')!, 5);
  assert.deepEqual(o, { spec: { replicas: 5 } });
});
