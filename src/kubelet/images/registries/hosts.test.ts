import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseRegistries } from './config.ts';
import { resolveEndpoints } from './endpoints.ts';
import { HOSTS_TOML_MARKER, hostsFiles, renderHostsToml, writeHostsDir } from './hosts.ts';

const M = HOSTS_TOML_MARKER;

test('a docker.io mirror is tried first, Docker Hub last', () => {
  const c = parseRegistries('mirrors:\n  docker.io:\n    endpoint: ["http://127.0.0.1:5000"]\n');
  assert.equal(renderHostsToml(c, 'docker.io'), `${M}
server = "https://registry-1.docker.io"

[host."http://127.0.0.1:5000"]
  capabilities = ["pull", "resolve"]
`);
});

test('TLS settings go to the endpoint they name, at top level for the server', () => {
  const c = parseRegistries(`
mirrors:
  reg.example.com:
    endpoint: [https://m1.example.com:8443, https://m2.example.com]
configs:
  m1.example.com:8443:
    tls: { ca_file: /etc/ca.pem, cert_file: /etc/c.pem, key_file: /etc/k.pem }
  m2.example.com:
    tls: { cert_file: /etc/both.pem }
  reg.example.com:
    tls: { insecure_skip_verify: true }
`);
  assert.equal(renderHostsToml(c, 'reg.example.com'), `${M}
server = "https://reg.example.com"
skip_verify = true

[host."https://m1.example.com:8443"]
  capabilities = ["pull", "resolve"]
  ca = "/etc/ca.pem"
  client = [["/etc/c.pem", "/etc/k.pem"]]

[host."https://m2.example.com"]
  capabilities = ["pull", "resolve"]
  client = "/etc/both.pem"
`);
});

test('a plain-HTTP registry mirrored to itself becomes the server, not tried twice', () => {
  const c = parseRegistries('mirrors:\n  "my.reg:5000":\n    endpoint: ["http://my.reg:5000"]\n');
  assert.equal(renderHostsToml(c, 'my.reg:5000'), `${M}\nserver = "http://my.reg:5000"\n`);
  assert.deepEqual(resolveEndpoints(c, 'my.reg:5000').map((e) => e.url), ['http://my.reg:5000']);
});

test('the "*" mirror is _default, without a server; configured hosts keep it', () => {
  const c = parseRegistries('mirrors:\n  "*":\n    endpoint: [http://10.0.0.1:5000]\nconfigs:\n  quay.io:\n    auth: {username: a, password: b}\n');
  const files = hostsFiles(c);
  assert.deepEqual([...files.keys()], ['_default', 'quay.io']);
  assert.equal(files.get('_default'), `${M}\n\n[host."http://10.0.0.1:5000"]\n  capabilities = ["pull", "resolve"]\n`);
  // quay.io has its own directory (containerd would not consult _default for it): the mirror must be in it.
  assert.match(files.get('quay.io')!, /server = "https:\/\/quay.io"\n\n\[host."http:\/\/10.0.0.1:5000"\]/);
});

test('auth-only configs need no file; localhost defaults to plain HTTP', () => {
  const c = parseRegistries('configs:\n  "127.0.0.1:5000":\n    auth: {username: a, password: b}\n');
  assert.equal(hostsFiles(c).size, 0);
  assert.deepEqual(resolveEndpoints(c, '127.0.0.1:5000').map((e) => e.url), ['http://127.0.0.1:5000']);
  assert.deepEqual(resolveEndpoints(c, 'localhost').map((e) => e.url), ['https://localhost']);
});

test('writeHostsDir writes, rewrites only on change, and removes only its own stale directories', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tk-hosts-'));
  try {
    await mkdir(join(dir, 'users.example.com'));
    await writeFile(join(dir, 'users.example.com', 'hosts.toml'), 'server = "https://users.example.com"\n');
    const c1 = parseRegistries('mirrors:\n  docker.io:\n    endpoint: [http://127.0.0.1:5000]\n  "127.0.0.1:5001":\n    endpoint: [http://127.0.0.1:5001]\n');
    assert.deepEqual(await writeHostsDir(c1, dir), { written: ['127.0.0.1:5001', 'docker.io'], removed: [] });
    assert.equal(await readFile(join(dir, 'docker.io', 'hosts.toml'), 'utf8'), renderHostsToml(c1, 'docker.io'));
    assert.deepEqual(await writeHostsDir(c1, dir), { written: [], removed: [] });
    const c2 = parseRegistries('mirrors:\n  docker.io:\n    endpoint: [http://127.0.0.1:6000]\n');
    assert.deepEqual(await writeHostsDir(c2, dir), { written: ['docker.io'], removed: ['127.0.0.1:5001'] });
    assert.deepEqual((await readdir(dir)).sort(), ['docker.io', 'users.example.com']);
    assert.match(await readFile(join(dir, 'docker.io', 'hosts.toml'), 'utf8'), /127\.0\.0\.1:6000/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
