import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadRegistries, parseRegistries, RegistryConfigError } from './config.ts';

test('parses mirrors and configs as k3s writes them', () => {
  const c = parseRegistries(`
mirrors:
  docker.io:
    endpoint:
      - "http://127.0.0.1:5000/"
      - https://mirror.example.com/v2
  "*":
    endpoint: https://all.example.com
configs:
  "127.0.0.1:5000":
    auth: { username: u, password: p }
    tls: { insecure_skip_verify: true }
  mirror.example.com:
    auth: { auth: ${Buffer.from('a:b').toString('base64')} }
    tls: { ca_file: /ca.pem, cert_file: /c.pem, key_file: /k.pem }
  tok.example.com:
    auth: { identitytoken: xyz }
`);
  assert.deepEqual(c.mirrors, {
    'docker.io': { endpoints: ['http://127.0.0.1:5000', 'https://mirror.example.com/v2'] },
    '*': { endpoints: ['https://all.example.com'] },
  });
  assert.deepEqual(c.configs['127.0.0.1:5000'], { auth: { username: 'u', password: 'p' }, tls: { insecureSkipVerify: true } });
  assert.deepEqual(c.configs['mirror.example.com'], { auth: { auth: 'YTpi' }, tls: { caFile: '/ca.pem', certFile: '/c.pem', keyFile: '/k.pem' } });
  assert.deepEqual(c.configs['tok.example.com'], { auth: { identityToken: 'xyz' } });
  assert.deepEqual(c.warnings, []);
});

test('empty documents configure nothing; rewrite is read but warned about', () => {
  for (const text of ['', '# nothing\n', 'mirrors:\nconfigs:\n']) {
    const c = parseRegistries(text);
    assert.deepEqual([c.mirrors, c.configs, c.warnings], [{}, {}, []]);
  }
  const c = parseRegistries('mirrors:\n  docker.io:\n    endpoint: [https://m.example]\n    rewrite:\n      "^rancher/(.*)": "mirror/$1"\n');
  assert.equal(c.warnings.length, 1);
  assert.match(c.warnings[0], /mirrors\.docker\.io\.rewrite is not supported/);
});

const bad: [string, string, string, RegExp][] = [
  // name, yaml, code, message
  ['not YAML', 'mirrors: [a, b\n', 'ERR_REGISTRY_CONFIG_YAML', /not valid YAML \(line \d+, column \d+\)/],
  ['duplicate key', 'mirrors: {}\nmirrors: {}\n', 'ERR_REGISTRY_CONFIG_YAML', /not valid YAML/],
  ['top level list', '- a\n', 'ERR_REGISTRY_CONFIG_INVALID', /\(top level\): must be a map, not a list/],
  ['unknown top key', 'mirror:\n  docker.io: {}\n', 'ERR_REGISTRY_CONFIG_INVALID', /mirror: unknown field \(known: mirrors, configs\)/],
  ['endpoint not list', 'mirrors:\n  docker.io:\n    endpoint: {a: 1}\n', 'ERR_REGISTRY_CONFIG_INVALID', /mirrors\.docker\.io\.endpoint: must be a list of URLs, not a map/],
  ['endpoint bad scheme', 'mirrors:\n  docker.io:\n    endpoint: ["ftp://x"]\n', 'ERR_REGISTRY_CONFIG_INVALID', /endpoint\[0\]: "ftp:\/\/x": only http/],
  ['endpoint creds', 'mirrors:\n  docker.io:\n    endpoint: ["https://u:p@x"]\n', 'ERR_REGISTRY_CONFIG_INVALID', /put credentials under configs/],
  ['bad host', 'configs:\n  "http://x":\n    auth: {username: a}\n', 'ERR_REGISTRY_CONFIG_INVALID', /configs\.http:\/\/x: "http:\/\/x" is not a registry host/],
  ['typo in tls', 'configs:\n  x.io:\n    tls: {insecure_skip_verfy: true}\n', 'ERR_REGISTRY_CONFIG_INVALID', /configs\.x\.io\.tls\.insecure_skip_verfy: unknown field/],
  ['skip verify string', 'configs:\n  x.io:\n    tls: {insecure_skip_verify: "yes"}\n', 'ERR_REGISTRY_CONFIG_INVALID', /insecure_skip_verify: must be true or false, not a string/],
  ['password number', 'configs:\n  x.io:\n    auth: {username: a, password: 123}\n', 'ERR_REGISTRY_CONFIG_INVALID', /auth\.password: must be a string, not a number/],
  ['auth not base64 pair', 'configs:\n  x.io:\n    auth: {auth: bm9jb2xvbg==}\n', 'ERR_REGISTRY_CONFIG_INVALID', /auth\.auth: must be base64 of "username:password"/],
  ['key without cert', 'configs:\n  x.io:\n    tls: {key_file: /k}\n', 'ERR_REGISTRY_CONFIG_INVALID', /key_file without cert_file/],
];

for (const [name, yaml, code, message] of bad) {
  test(`rejects ${name} with ${code}`, () => {
    assert.throws(() => parseRegistries(yaml, '/etc/tk/registries.yaml'), (err: unknown) => {
      assert.ok(err instanceof RegistryConfigError);
      assert.equal(err.code, code);
      assert.match(err.message, /^\/etc\/tk\/registries\.yaml: /);
      assert.match(err.message, message);
      return true;
    });
  });
}

test('loadRegistries: missing optional file is undefined, missing named file an error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tk-reg-'));
  try {
    assert.equal(await loadRegistries(join(dir, 'none.yaml'), { optional: true }), undefined);
    await assert.rejects(loadRegistries(join(dir, 'none.yaml')), { code: 'ERR_REGISTRY_CONFIG_READ', message: /no such file/ });
    await writeFile(join(dir, 'r.yaml'), 'mirrors:\n  docker.io:\n    endpoint: [http://127.0.0.1:5000]\n');
    const c = await loadRegistries(join(dir, 'r.yaml'));
    assert.deepEqual(c?.mirrors['docker.io'], { endpoints: ['http://127.0.0.1:5000'] });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
