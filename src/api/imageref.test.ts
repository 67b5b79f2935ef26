import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ImageReferenceError, imageTag, normalizeImage, parseImageReference } from './imageref.ts';

const digest = 'sha256:96089547c4829f6578d35ec2ba4dbfb7afced22c971b692c3a7ed0105ca59af8';

test('normalises references as ParseNormalizedNamed', () => {
  const cases: [string, string][] = [
    ['nginx', 'docker.io/library/nginx:latest'],
    ['nginx:1.27', 'docker.io/library/nginx:1.27'],
    ['sissbruecker/linkding:1.31.0', 'docker.io/sissbruecker/linkding:1.31.0'],
    ['index.docker.io/library/busybox', 'docker.io/library/busybox:latest'],
    ['localhost/tinykube/pause:3.10', 'localhost/tinykube/pause:3.10'],
    ['127.0.0.1:5000/team/app', '127.0.0.1:5000/team/app:latest'],
    ['registry.k8s.io/pause:3.10', 'registry.k8s.io/pause:3.10'],
    [`nginx@${digest}`, `docker.io/library/nginx@${digest}`],
    [`nginx:1.27@${digest}`, `docker.io/library/nginx:1.27@${digest}`],
  ];
  for (const [input, want] of cases) assert.equal(normalizeImage(input), want, input);
  assert.deepEqual(parseImageReference('127.0.0.1:5000/team/app:v2'), { domain: '127.0.0.1:5000', path: 'team/app', tag: 'v2' });
});

test('rejects what docker reference parsing rejects', () => {
  for (const bad of ['', 'Nginx', 'nginx:', 'nginx@sha256:abc', 'a//b', 'nginx:bad tag', '-nginx']) {
    assert.throws(() => parseImageReference(bad), ImageReferenceError, bad);
  }
});

test('the tag Kubernetes sees', () => {
  assert.equal(imageTag('nginx'), 'latest');
  assert.equal(imageTag('nginx:1.27'), '1.27');
  assert.equal(imageTag(`nginx@${digest}`), '');
  assert.equal(imageTag('NGINX:latest'), '');
});
