import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
// Test-only: the cluster PKI issues the certificates a real agent and API server would hold.
import { ensurePki, issueClientCert, issueServingCert, type IssuedCert, type Pki } from '../../apiserver/auth/pki.ts';
import { CriError } from '../runtime/errors.ts';
import type { ContainerStatus, ExecStreamRequest, StreamRequest } from '../runtime/runtime.ts';
import { SpdySession } from '../../util/spdy/session.ts';
import { dialUpgrade, writeResponseHead } from '../../util/spdy/upgrade.ts';
import { APISERVER_KUBELET_CLIENT_CN, createStreamingServer, parseRoute, streamFlags, type StreamingServer } from './server.ts';
import type { StreamingPod } from './pods.ts';

const SUCCESS = '{"metadata":{},"status":"Success"}';

/**
 * containerd's streaming server in miniature: remotecommand v4 over SPDY that runs `cat` (stdin to
 * stdout), and port-forward that answers "pong" on the data stream.
 */
function fakeRuntimeStreaming(): Promise<{ server: Server; url: (path: string) => string }> {
  const server = createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (req: IncomingMessage, socket) => {
    const offered = String(req.headers['x-stream-protocol-version'] ?? '').split(',').map((s) => s.trim());
    const portForward = req.url!.startsWith('/portforward/');
    const protocol = portForward ? 'portforward.k8s.io' : 'v4.channel.k8s.io';
    if (!offered.includes(protocol)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    writeResponseHead(socket, 101, [['Connection', 'Upgrade'], ['Upgrade', 'SPDY/3.1'], ['X-Stream-Protocol-Version', protocol]]);
    const session = new SpdySession(socket, { role: 'server' });
    const streams: Record<string, import('../../util/spdy/session.ts').SpdyStream> = {};
    session.on('stream', (s) => {
      s.reply();
      if (portForward) {
        if (s.headers.streamtype === 'data') s.on('data', () => s.end(`pong from ${s.headers.port}`));
        return;
      }
      streams[s.headers.streamtype!] = s;
      if (streams.stdin && streams.stdout && streams.error) {
        streams.stdin.pipe(streams.stdout);
        streams.stdin.on('end', () => streams.error!.write(SUCCESS, () => socket.end()));
      }
    });
  });
  server.listen(0, '127.0.0.1');
  return once(server, 'listening').then(() => ({ server, url: (p: string) => `http://127.0.0.1:${(server.address() as AddressInfo).port}${p}` }));
}

describe('node agent streaming server', () => {
  let dir: string;
  let pki: Pki;
  let apiCert: IssuedCert;
  let nodeCert: IssuedCert;
  let foreignCert: IssuedCert;
  let agent: StreamingServer;
  let port = 0;
  let fake: Awaited<ReturnType<typeof fakeRuntimeStreaming>>;
  const calls: unknown[] = [];
  let execFails = false;
  const pods: Record<string, StreamingPod> = {};

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tk-agent-stream-'));
    pki = await ensurePki(join(dir, 'pki'));
    const other = await ensurePki(join(dir, 'other'));
    apiCert = await issueClientCert(pki, APISERVER_KUBELET_CLIENT_CN, []);
    nodeCert = await issueClientCert(pki, 'system:node:n2', ['system:nodes']);
    foreignCert = await issueClientCert(other, APISERVER_KUBELET_CLIENT_CN, []);
    const serving = await issueServingCert(pki, 'n1', ['127.0.0.1']);
    fake = await fakeRuntimeStreaming();
    pods['default/p'] = { uid: 'u1', sandboxId: 'sb1', containers: { c: { containerId: 'c1', restartCount: 0 }, later: { restartCount: 0 } } };
    pods['default/nosandbox'] = { uid: 'u2', containers: {} };
    const logDir = join(dir, 'logs', 'default_p_u1', 'c');
    mkdirSync(logDir, { recursive: true });
    writeFileSync(join(logDir, '0.log'), '2026-11-24T03:18:34.1Z stdout F one\n2026-11-24T03:18:35.2Z stderr F two\n');
    agent = createStreamingServer({
      runtime: {
        async exec(r: ExecStreamRequest) {
          calls.push({ exec: r });
          if (execFails) throw new CriError('ERR_CRI_UNKNOWN', 'Exec', 'container c1 is not running');
          return fake.url('/exec/tok');
        },
        async attach(r: StreamRequest) {
          calls.push({ attach: r });
          return fake.url('/attach/tok');
        },
        async portForward(sandboxId: string, ports: number[]) {
          calls.push({ portForward: sandboxId, ports });
          return fake.url('/portforward/tok');
        },
        async containerStatus(): Promise<ContainerStatus> {
          throw new CriError('ERR_CRI_NOT_FOUND', 'ContainerStatus', 'gone');
        },
      },
      logRoot: join(dir, 'logs'),
      resolvePod: (ns, name) => pods[`${ns}/${name}`],
      tls: { cert: serving.certPem, key: serving.keyPem, ca: pki.caCertPem },
      followPollMs: 5,
      summary: async () => ({
        node: { nodeName: 'n1', startTime: '2026-01-01T00:00:00Z', fs: { time: '2026-01-01T00:00:01Z', capacityBytes: 100, availableBytes: 60, usedBytes: 40 } },
        pods: [{
          podRef: { name: 'p', namespace: 'default', uid: 'u1' }, startTime: '2026-01-01T00:00:00Z',
          containers: [{ name: 'c', startTime: '2026-01-01T00:00:00Z', cpu: { time: '2026-01-01T00:00:01Z', usageCoreNanoSeconds: 5 }, logs: { time: '2026-01-01T00:00:01Z', usedBytes: 4096 } }],
          volume: [{ time: '2026-01-01T00:00:01Z', name: 'data', usedBytes: 8192 }],
        }],
      }),
    });
    port = (await agent.listen(0, '127.0.0.1')).port;
  });

  after(async () => {
    await agent.close();
    fake.server.close();
    await rm(dir, { recursive: true, force: true });
  });

  function get(path: string, cert: IssuedCert | null = apiCert): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, ca: pki.caCertPem, cert: cert?.certPem, key: cert?.keyPem, agent: false }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  const msg = (body: string) => (JSON.parse(body) as { message: string }).message;

  it('serves only clients with a cluster certificate it authorizes', async () => {
    assert.equal((await get('/healthz')).status, 200);
    assert.equal((await get('/healthz', null)).status, 401);
    assert.equal((await get('/healthz', foreignCert)).status, 401);
    const node = await get('/healthz', nodeCert);
    assert.equal(node.status, 403);
    assert.match(msg(node.body), /system:node:n2/);
  });

  it('serves the Summary, and its cpu-and-memory-only form', async () => {
    const full = await get('/stats/summary');
    assert.equal(full.status, 200, full.body);
    const s = JSON.parse(full.body) as { node: { fs?: unknown }; pods: Array<{ volume?: unknown[]; containers: Array<{ logs?: unknown; cpu?: unknown }> }> };
    assert.deepEqual(s.node.fs, { time: '2026-01-01T00:00:01Z', capacityBytes: 100, availableBytes: 60, usedBytes: 40 });
    assert.equal(s.pods[0]!.volume?.length, 1);
    const only = JSON.parse((await get('/stats/summary?only_cpu_and_memory=true')).body) as typeof s;
    assert.deepEqual(only, {
      node: { nodeName: 'n1', startTime: '2026-01-01T00:00:00Z' },
      pods: [{ podRef: { name: 'p', namespace: 'default', uid: 'u1' }, startTime: '2026-01-01T00:00:00Z', containers: [{ name: 'c', startTime: '2026-01-01T00:00:00Z', cpu: { time: '2026-01-01T00:00:01Z', usageCoreNanoSeconds: 5 } }] }],
    });
    assert.equal((await get('/stats/summary', nodeCert)).status, 403);
  });

  const logCases: [string, string, number, string][] = [
    ['all lines', '/containerLogs/default/p/c', 200, 'one\ntwo\n'],
    ['tail with timestamps', '/containerLogs/default/p/c?tailLines=1&timestamps=true', 200, '2026-11-24T03:18:35.200000000Z two\n'],
    ['follow of an exited container ends', '/containerLogs/default/p/c?follow=true', 200, 'one\ntwo\n'],
    ['unknown pod', '/containerLogs/default/nope/c', 404, 'pods "nope" not found'],
    ['unknown container', '/containerLogs/default/p/x', 400, 'container x is not valid for pod p'],
    ['no previous instance', '/containerLogs/default/p/c?previous=true', 400, 'previous terminated container "c" in pod "p" not found'],
    ['not created yet', '/containerLogs/default/p/later', 400, 'container "later" in pod "p" is waiting to start: ContainerCreating'],
    ['bad option', '/containerLogs/default/p/c?tailLines=-1', 400, 'tailLines: Invalid value: -1: must be greater than or equal to 0'],
    ['exec without an upgrade', '/exec/default/p/c?command=ls', 400, 'Upgrade request required'],
  ];
  for (const [name, path, status, want] of logCases) {
    it(`logs: ${name}`, async () => {
      const r = await get(path);
      assert.equal(r.status, status, r.body);
      assert.equal(status === 200 ? r.body : msg(r.body), want);
    });
  }

  function upgrade(path: string, protocols: string[]) {
    return dialUpgrade({
      url: `https://127.0.0.1:${port}${path}`,
      method: 'POST',
      headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': protocols },
      tls: { ca: pki.caCertPem, cert: apiCert.certPem, key: apiCert.keyPem },
    });
  }

  it('relays an exec upgrade to the runtime: containerd negotiates the protocol and runs the streams', async () => {
    calls.length = 0;
    const up = await upgrade('/exec/default/p/c?command=cat&command=-&input=1&output=1&error=1', ['v5.channel.k8s.io', 'v4.channel.k8s.io']);
    assert.ok(up.upgraded);
    assert.equal(up.headers['x-stream-protocol-version'], 'v4.channel.k8s.io');
    assert.deepEqual(calls, [{ exec: { containerId: 'c1', cmd: ['cat', '-'], stdin: true, stdout: true, stderr: true, tty: false } }]);
    const s = new SpdySession(up.socket, { role: 'client' });
    const error = await s.openStream({ streamtype: 'error' });
    const stdin = await s.openStream({ streamtype: 'stdin' });
    const stdout = await s.openStream({ streamtype: 'stdout' });
    let out = '';
    let status = '';
    stdout.on('data', (d: Buffer) => (out += d.toString()));
    error.on('data', (d: Buffer) => (status += d.toString()));
    stdin.end('relayed\n');
    await s.closed;
    assert.equal(out, 'relayed\n');
    assert.equal(status, SUCCESS);
  });

  it('passes attach and port-forward through with the right runtime calls', async () => {
    calls.length = 0;
    const a = await upgrade('/attach/default/p/c?input=1&output=1&tty=1&error=1', ['v4.channel.k8s.io']);
    assert.ok(a.upgraded);
    a.socket.destroy();
    const pf = await upgrade('/portForward/default/p', ['portforward.k8s.io']);
    assert.ok(pf.upgraded);
    const s = new SpdySession(pf.socket, { role: 'client' });
    const data = await s.openStream({ streamtype: 'data', port: '8080', requestid: '0' });
    let got = '';
    data.on('data', (d: Buffer) => (got += d.toString()));
    data.write('ping');
    await once(data, 'end');
    assert.equal(got, 'pong from 8080');
    s.destroy();
    // A TTY merges stderr into stdout, so the runtime is not asked for stderr.
    assert.deepEqual(calls, [{ attach: { containerId: 'c1', stdin: true, stdout: true, stderr: false, tty: true } }, { portForward: 'sb1', ports: [] }]);
  });

  const refusals: [string, string, string[], number, RegExp][] = [
    ['a protocol containerd does not speak', '/exec/default/p/c?command=ls&output=1', ['v5.channel.k8s.io'], 403, /^$/],
    ['a pod without a sandbox', '/portForward/default/nosandbox', ['portforward.k8s.io'], 400, /pod nosandbox does not have a running sandbox/],
    ['an exec without a command', '/exec/default/p/c?output=1', ['v4.channel.k8s.io'], 400, /at least one command/],
    ['a container not created yet', '/exec/default/p/later?command=ls&output=1', ['v4.channel.k8s.io'], 400, /container not found \("later"\)/],
  ];
  for (const [name, path, protocols, status, re] of refusals) {
    it(`refuses ${name}`, async () => {
      const up = await upgrade(path, protocols);
      assert.equal(up.upgraded, false);
      if (up.upgraded) return;
      assert.equal(up.statusCode, status);
      assert.match(up.body.length ? msg(up.body.toString()) : '', re);
    });
  }

  it('reports a runtime failure as an InternalError Status', async () => {
    execFails = true;
    try {
      const up = await upgrade('/exec/default/p/c?command=ls&output=1', ['v4.channel.k8s.io']);
      assert.ok(!up.upgraded);
      if (up.upgraded) return;
      assert.equal(up.statusCode, 500);
      assert.equal(msg(up.body.toString()), 'Internal error occurred: error executing command in container: container c1 is not running');
    } finally {
      execFails = false;
    }
  });
});

describe('streaming routes', () => {
  const cases: [string, ReturnType<typeof parseRoute>][] = [
    ['/containerLogs/ns/p/c', { kind: 'logs', namespace: 'ns', pod: 'p', container: 'c' }],
    ['/exec/ns/p/c', { kind: 'exec', namespace: 'ns', pod: 'p', container: 'c' }],
    ['/attach/ns/p/c', { kind: 'attach', namespace: 'ns', pod: 'p', container: 'c' }],
    ['/portForward/ns/p', { kind: 'portforward', namespace: 'ns', pod: 'p' }],
    ['/portforward/ns/p', { kind: 'portforward', namespace: 'ns', pod: 'p' }],
    ['/exec/ns/p', undefined],
    ['/containerLogs/ns/p/c/x', undefined],
    ['/other/ns/p/c', undefined],
  ];
  for (const [path, want] of cases) it(path, () => assert.deepEqual(parseRoute(path), want));

  it('reads stream flags in the kubelet and the API spelling', () => {
    assert.deepEqual(streamFlags(new URLSearchParams('input=1&output=1&error=1')), { stdin: true, stdout: true, stderr: true, tty: false });
    assert.deepEqual(streamFlags(new URLSearchParams('stdin=true&tty=true')), { stdin: true, stdout: false, stderr: false, tty: true });
  });
});
