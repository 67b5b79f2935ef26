import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { goDuration } from './grpc.ts';
import { runProbe } from './probe.ts';

// A real grpc-js server implementing grpc.health.v1 the way grpc-go's health server does: known services
// answer their status, an unknown one is NOT_FOUND "unknown service"; "hang" never answers.
const statuses: Record<string, string> = { '': 'SERVING', db: 'NOT_SERVING' };
let healthServer: grpc.Server;
let healthPort = 0;
// A gRPC server without the health service (grpc-js answers UNIMPLEMENTED).
let bareServer: grpc.Server;
let barePort = 0;
// Accepts TCP connections and never speaks HTTP/2.
let silent: net.Server;
const silentSockets = new Set<net.Socket>();
let silentPort = 0;
let closedPort = 0;

function bind(server: grpc.Server): Promise<number> {
  return new Promise((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))));
}

before(async () => {
  const def = protoLoader.loadSync(fileURLToPath(new URL('./health.proto', import.meta.url)), { enums: String, defaults: true });
  const service = def['grpc.health.v1.Health'] as grpc.ServiceDefinition;
  healthServer = new grpc.Server();
  healthServer.addService(service, {
    Check(call: grpc.ServerUnaryCall<{ service: string }, unknown>, callback: grpc.sendUnaryData<{ status: string }>) {
      const name = call.request.service;
      if (name === 'hang') return;
      const status = statuses[name];
      if (status === undefined) callback({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
      else callback(null, { status });
    },
  });
  healthPort = await bind(healthServer);
  bareServer = new grpc.Server();
  barePort = await bind(bareServer);
  silent = net.createServer((s) => {
    // Reading, so that it sees the prober's FIN and closes its side too.
    s.resume();
    silentSockets.add(s);
    s.on('close', () => silentSockets.delete(s));
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  silentPort = (silent.address() as AddressInfo).port;
  const tmp = net.createServer();
  await new Promise<void>((r) => tmp.listen(0, '127.0.0.1', r));
  closedPort = (tmp.address() as AddressInfo).port;
  await new Promise<void>((r) => tmp.close(() => r()));
});

after(() => {
  healthServer.forceShutdown();
  bareServer.forceShutdown();
  for (const s of silentSockets) s.destroy();
  silent.close();
});

const noExec = {
  execSync(): never {
    throw new Error('a grpc probe must not exec');
  },
};

function probe(port: () => number, service: string | undefined, timeoutSeconds = 1) {
  return runProbe(noExec, { grpc: { port: port(), service }, timeoutSeconds }, { podIP: '127.0.0.1', containerId: 'id', container: { name: 'c' } });
}

describe('grpc probes', () => {
  const cases: { name: string; port: () => number; service?: string; ok: boolean; message?: (port: number) => string }[] = [
    { name: 'SERVING passes', port: () => healthPort, service: '', ok: true },
    { name: 'a missing service field checks the server as a whole', port: () => healthPort, ok: true },
    { name: 'NOT_SERVING fails', port: () => healthPort, service: 'db', ok: false, message: () => 'service unhealthy (responded with "NOT_SERVING")' },
    {
      name: 'an unknown service fails with NOT_FOUND',
      port: () => healthPort,
      service: 'nope',
      ok: false,
      message: () => 'error: health rpc probe failed: rpc error: code = NotFound desc = unknown service',
    },
    {
      name: 'a server without the health service fails as Unimplemented',
      port: () => barePort,
      service: '',
      ok: false,
      message: () => 'error: this server does not implement the grpc health protocol (grpc.health.v1.Health): The server does not implement the method /grpc.health.v1.Health/Check',
    },
    {
      // grpc-go's blocking dial keeps retrying a refused connection until the deadline; so do we.
      name: 'nothing listening fails as a connect timeout',
      port: () => closedPort,
      service: '',
      ok: false,
      message: (p) => `timeout: failed to connect service "127.0.0.1:${p}" within 1s: context deadline exceeded`,
    },
    { name: 'a call never answered fails as an rpc timeout', port: () => healthPort, service: 'hang', ok: false, message: () => 'timeout: health rpc did not complete within 1s' },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const r = await probe(c.port, c.service);
      if (c.ok) assert.deepEqual(r, { ok: true, output: 'service healthy' });
      else assert.deepEqual(r, { ok: false, message: c.message!(c.port()) });
    });
  }

  it('a peer that accepts TCP but never speaks HTTP/2 fails as a connect timeout, and is hung up on', async () => {
    const accepted = new Promise<net.Socket>((r) => silent.once('connection', r));
    const r = await probe(() => silentPort, '');
    assert.deepEqual(r, { ok: false, message: `timeout: failed to connect service "127.0.0.1:${silentPort}" within 1s: context deadline exceeded` });
    // grpc-js alone would keep this connection open forever (see ProbeCredentials).
    const peer = await accepted;
    if (!peer.closed) await new Promise((r) => peer.once('close', r));
  });

  it('leaves no socket or timer behind', async () => {
    const count = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'Timeout').length;
    const before = count();
    await Promise.all([probe(() => healthPort, ''), probe(() => closedPort, ''), probe(() => healthPort, 'hang'), probe(() => silentPort, '')]);
    // Both ends of each connection finish closing over a few turns of the event loop.
    let turns = 0;
    while (count() > before && turns++ < 100) await new Promise((r) => setImmediate(r));
    assert.equal(count(), before);
  });

  it('prints durations as Go does', () => {
    assert.deepEqual([0, 300, 1000, 1500, 60_000, 90_000, 3_600_000].map(goDuration), ['0s', '300ms', '1s', '1.5s', '1m0s', '1m30s', '1h0m0s']);
  });
});

// As a pod is probed: the server listens on every address ([::] or 0.0.0.0, as grpc-go's ":50051"
// does), the prober dials the pod IP, which is not loopback; and the prober dials directly, whatever
// proxy the agent's environment names (the kubelet's gRPC prober uses its own net.Dialer).
describe('grpc probes as a pod is probed', () => {
  const external = (family: 'IPv4' | 'IPv6') => Object.values(os.networkInterfaces()).flat().find((a) => a && !a.internal && a.family === family && !a.address.startsWith('fe80'))?.address;
  let server: grpc.Server;
  let port = 0;
  before(async () => {
    const def = protoLoader.loadSync(fileURLToPath(new URL('./health.proto', import.meta.url)), { enums: String, defaults: true });
    server = new grpc.Server();
    // Health for the whole server only, as grpc-health-check's default map ({"": SERVING}).
    server.addService(def['grpc.health.v1.Health'] as grpc.ServiceDefinition, {
      Check(call: grpc.ServerUnaryCall<{ service: string }, unknown>, callback: grpc.sendUnaryData<{ status: string }>) {
        if (call.request.service === '') callback(null, { status: 'SERVING' });
        else callback({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
      },
    });
    port = await new Promise<number>((resolve, reject) => server.bindAsync('[::]:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  });
  after(() => server.forceShutdown());

  const at = (podIP: string, service?: string) => runProbe(noExec, { grpc: { port, service }, timeoutSeconds: 2 }, { podIP, containerId: 'id', container: { name: 'c' } });

  for (const family of ['IPv4', 'IPv6'] as const) {
    it(`a server on [::] through the pod's ${family} address`, async (t) => {
      const ip = external(family);
      if (!ip) return t.skip(`no non-loopback ${family} address on this machine`);
      assert.deepEqual(await at(ip), { ok: true, output: 'service healthy' });
      assert.deepEqual(await at(ip, ''), { ok: true, output: 'service healthy' });
      assert.deepEqual(await at(ip, 'app'), { ok: false, message: 'error: health rpc probe failed: rpc error: code = NotFound desc = unknown service' });
    });
  }

  it('dials directly whatever proxy the environment names', async () => {
    const saved = { grpc_proxy: process.env.grpc_proxy, http_proxy: process.env.http_proxy, https_proxy: process.env.https_proxy };
    // A proxy address nothing listens on: a probe through it could not pass.
    process.env.grpc_proxy = `http://127.0.0.1:${closedPort}`;
    process.env.http_proxy = process.env.grpc_proxy;
    process.env.https_proxy = process.env.grpc_proxy;
    try {
      assert.deepEqual(await at(external('IPv4') ?? '127.0.0.1'), { ok: true, output: 'service healthy' });
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
