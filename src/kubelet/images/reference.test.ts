import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ImageReferenceError, normalizeImageName, parseImageReference } from './reference.ts';

describe('image references', () => {
  const normalised: [string, string][] = [
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['sissbruecker/linkding:1.31.0', 'docker.io/sissbruecker/linkding:1.31.0'],
    ['docker.io/library/busybox:latest', 'docker.io/library/busybox:latest'],
    ['index.docker.io/library/nginx', 'docker.io/library/nginx:latest'],
    ['registry.k8s.io/pause:3.9', 'registry.k8s.io/pause:3.9'],
    ['localhost/app', 'localhost/app:latest'],
    ['localhost:5000/team/app:v2', 'localhost:5000/team/app:v2'],
    ['127.0.0.1:5000/app', '127.0.0.1:5000/app:latest'],
    [`nginx@sha256:${'a'.repeat(64)}`, `docker.io/library/nginx@sha256:${'a'.repeat(64)}`],
    [`nginx:1.27@sha256:${'b'.repeat(64)}`, `docker.io/library/nginx:1.27@sha256:${'b'.repeat(64)}`],
  ];
  for (const [input, want] of normalised) {
    it(`${input} → ${want}`, () => assert.equal(normalizeImageName(input), want));
  }

  it('splits domain, path, tag and digest', () => {
    assert.deepEqual(parseImageReference('localhost:5000/a/b:t'), { domain: 'localhost:5000', path: 'a/b', tag: 't' });
  });

  for (const bad of ['', 'UPPER/case', 'a:b:c', 'x@sha256:short', ':tag', 'a//b']) {
    it(`rejects ${JSON.stringify(bad)}`, () => assert.throws(() => parseImageReference(bad), ImageReferenceError));
  }
});
