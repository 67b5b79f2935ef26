import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Container } from '../../api/types.ts';
import { httpGet, probeTiming, resolvePort, runProbe, tcpSocket } from './probe.ts';

let server: http.Server;
let port = 0;
let closedPort = 0;
const seenHeaders: Record<string, string | string[] | undefined>[] = [];

before(async () => {
  server = http.createServer((req, res) => {
    seenHeaders.push(req.headers);
    if (req.url === '/healthy') res.end('ok');
    else if (req.url === '/moved') res.writeHead(302, { location: '/elsewhere' }).end();
    else if (req.url === '/slow') setTimeout(() => res.end('late'), 400);
    else res.writeHead(500).end('broken');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  const tmp = net.createServer();
  await new Promise<void>((r) => tmp.listen(0, '127.0.0.1', r));
  closedPort = (tmp.address() as AddressInfo).port;
  await new Promise<void>((r) => tmp.close(() => r()));
});
after(() => {
  server.closeAllConnections();
  server.close();
});

const container = (): Container => ({ name: 'c', ports: [{ name: 'http', containerPort: port }] });
const target = () => ({ podIP: '127.0.0.1', containerId: 'id', container: container() });

describe('probes', () => {
  it('has the Kubernetes defaults', () => {
    assert.deepEqual(probeTiming({}), { initialDelayMs: 0, periodMs: 10_000, timeoutMs: 1000, successThreshold: 1, failureThreshold: 3 });
  });

  it('resolves named ports', () => {
    assert.equal(resolvePort('http', container()), port);
    assert.equal(resolvePort(8080, container()), 8080);
    assert.equal(resolvePort('nope', container()), undefined);
  });

  const cases: { name: string; path: string; ok: boolean; message?: RegExp }[] = [
    { name: '200 passes', path: '/healthy', ok: true },
    { name: '3xx passes', path: '/moved', ok: true },
    { name: '500 fails', path: '/broken', ok: false, message: /^HTTP probe failed with statuscode: 500$/ },
    { name: 'a timeout fails', path: '/slow', ok: false, message: /context deadline exceeded/ },
  ];
  for (const c of cases) {
    it(`httpGet: ${c.name}`, async () => {
      const r = await httpGet({ path: c.path, port: 'http', httpHeaders: [{ name: 'X-Probe', value: 'yes' }] }, target(), 300);
      assert.equal(r.ok, c.ok);
      if (!r.ok) assert.match(r.message, c.message!);
    });
  }

  it('httpGet sends kube-probe as user agent and the configured headers', () => {
    assert.equal(seenHeaders[0]['user-agent'], 'kube-probe/1.32');
    assert.equal(seenHeaders[0]['x-probe'], 'yes');
  });

  it('httpGet to a closed port says connection refused', async () => {
    const r = await httpGet({ path: '/', port: closedPort }, target(), 1000);
    assert.deepEqual(r, { ok: false, message: `Get "http://127.0.0.1:${closedPort}/": dial tcp 127.0.0.1:${closedPort}: connect: connection refused` });
  });

  it('tcpSocket passes on an open port and fails on a closed one', async () => {
    assert.deepEqual(await tcpSocket({ port }, target(), 1000), { ok: true });
    assert.deepEqual(await tcpSocket({ port: closedPort }, target(), 1000), { ok: false, message: `dial tcp 127.0.0.1:${closedPort}: connect: connection refused` });
  });

  it('exec passes on exit 0 and reports output on failure', async () => {
    const rt = {
      async execSync(_id: string, cmd: string[]) {
        return { stdout: Buffer.from(cmd[0] === 'ok' ? '' : 'not ready\n'), stderr: Buffer.alloc(0), exitCode: cmd[0] === 'ok' ? 0 : 1 };
      },
    };
    assert.equal((await runProbe(rt, { exec: { command: ['ok'] } }, target())).ok, true);
    assert.deepEqual(await runProbe(rt, { exec: { command: ['bad'] } }, target()), { ok: false, message: 'not ready\n' });
  });
});
