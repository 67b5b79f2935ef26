import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
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
