import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dialErrorText, isGlobalUnicast, rewriteLocation, splitSchemeNamePort } from './proxy.ts';

describe('splitSchemeNamePort (utilnet.SplitSchemeNamePort)', () => {
  const cases: [string, ReturnType<typeof splitSchemeNamePort>][] = [
    ['web', { scheme: '', name: 'web', port: '' }],
    ['web:8080', { scheme: '', name: 'web', port: '8080' }],
    ['web:http', { scheme: '', name: 'web', port: 'http' }],
    ['https:web:8443', { scheme: 'https', name: 'web', port: '8443' }],
    ['https:web:', { scheme: 'https', name: 'web', port: '' }],
    ['ftp:web:21', undefined],
    [':80', undefined],
    ['a:b:c:d', undefined],
  ];
  for (const [id, want] of cases) it(id, () => assert.deepEqual(splitSchemeNamePort(id), want));
});

describe("isGlobalUnicast (Go's net.IP.IsGlobalUnicast)", () => {
  const cases: [string, boolean][] = [
    ['10.42.0.7', true], ['192.0.2.9', true], ['8.8.8.8', true], ['2001:db8::1', true], ['::ffff:10.0.0.1', true],
    ['127.0.0.1', false], ['127.9.9.9', false], ['0.0.0.0', false], ['169.254.1.1', false], ['224.0.0.1', false], ['255.255.255.255', false],
    ['::1', false], ['::', false], ['fe80::1', false], ['ff02::1', false], ['::ffff:127.0.0.1', false], ['', false], ['web', false],
  ];
  for (const [ip, want] of cases) it(ip || '(empty)', () => assert.equal(isGlobalUnicast(ip), want));
});

describe('rewriteLocation (the proxy transport rewriting a redirect)', () => {
  const prefix = '/api/v1/namespaces/default/pods/web:80/proxy';
  const cases: [string, string, string][] = [
    ['absolute path', '/login?next=%2F', `${prefix}/login?next=%2F`],
    ['trailing slash kept', '/dir/', `${prefix}/dir/`],
    ["the backend's own host", 'http://10.42.0.7:80/a', `${prefix}/a`],
    ['already under the prefix', `${prefix}/b`, `${prefix}/b`],
    ["the API server's host keeps its origin", 'https://api.example:6443/c', `https://api.example:6443${prefix}/c`],
    ['another host', 'https://elsewhere.example/d', 'https://elsewhere.example/d'],
    ['relative', 'next/page', 'next/page'],
  ];
  for (const [name, location, want] of cases) it(name, () => assert.equal(rewriteLocation(location, prefix, '10.42.0.7:80', 'api.example:6443'), want));
});

describe("dialErrorText (Go's wording)", () => {
  const err = (code: string) => Object.assign(new Error(code), { code });
  const cases: [string, string][] = [
    ['ECONNREFUSED', 'dial tcp 10.0.0.5:9187: connect: connection refused'],
    ['EHOSTUNREACH', 'dial tcp 10.0.0.5:9187: connect: no route to host'],
    ['ETIMEDOUT', 'dial tcp 10.0.0.5:9187: i/o timeout'],
  ];
  for (const [code, want] of cases) it(code, () => assert.equal(dialErrorText(err(code), '10.0.0.5:9187'), want));
});
