import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { duplexPair } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import type { ContainerState, Node, Pod } from '../../api/types.ts';
import { makePod } from '../../testing/objects.ts';
import { StatusError } from '../../util/status.ts';
import { SpdySession, type SpdyStream } from '../../util/spdy/session.ts';
import { nodeAgentEndpoint } from './agent.ts';
import { checkLogsAvailable, logContainerName, streamContainerName } from './containers.ts';
import { bridgeV5, openRemoteCommandStreams, SUCCESS_STATUS, V4_CHANNEL, V5_CHANNEL, type StreamFlags } from './remotecommand.ts';

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof StatusError);
    assert.equal(err.code, 400);
    return err.message;
  }
  return '';
}

describe('container selection (kube-apiserver wording)', () => {
  const cases: [string, () => unknown, string][] = [
    ['log: the only container', () => logContainerName(makePod('web').container('nginx').build(), null), ''],
    ['log: several, none named', () => logContainerName(makePod('p1').container('main').container('side').build(), null), 'a container name must be specified for pod p1, choose one of: [main side]'],
    ['log: several with init', () => logContainerName(makePod('p1').container('main').container('side').init('setup').build(), null), 'a container name must be specified for pod p1, choose one of: [main side] or one of the init containers: [setup]'],
    ['log: unknown', () => logContainerName(makePod('web').container('nginx').build(), 'nope'), 'container nope is not valid for pod web'],
    ['log: an init container by name', () => logContainerName(makePod('web').container('nginx').init('setup').build(), 'setup'), ''],
    ['exec: several, none named', () => streamContainerName(makePod('p1').container('main').container('side').init('setup').build(), null), 'a container name must be specified for pod p1, choose one of: [setup main side]'],
    ['exec: unknown', () => streamContainerName(makePod('web').container('nginx').build(), 'c'), 'container c is not valid for pod web'],
  ];
  for (const [name, fn, want] of cases) it(name, () => assert.equal(message(fn), want));

  it('returns the container it picked', () => {
    assert.equal(logContainerName(makePod('web').container('nginx').build(), null), 'nginx');
    assert.equal(streamContainerName(makePod('web').container('a').container('b').build(), 'b'), 'b');
  });
});

describe('log availability (kubelet wording)', () => {
  const running: ContainerState = { running: { startedAt: 'x' } };
  const waiting = (reason: string): ContainerState => ({ waiting: { reason } });
  const previous: ContainerState = { terminated: { containerID: 'containerd://0', exitCode: 1 } };
  const cases: [string, Pod, boolean, string][] = [
    ['running', makePod('web').container('c', running, { containerID: 'containerd://1' }).build(), false, ''],
    ['no status yet', makePod('slow').container('c').build(), false, 'container "c" in pod "slow" is waiting to start: ContainerCreating'],
    ['waiting', makePod('slow').container('c', waiting('ContainerCreating')).build(), false, 'container "c" in pod "slow" is waiting to start: ContainerCreating'],
    ['image pull failing', makePod('p').container('c', waiting('ImagePullBackOff')).build(), false, 'container "c" in pod "p" is waiting to start: trying and failing to pull image'],
    ['crash looping, current', makePod('p').container('c', waiting('CrashLoopBackOff'), { lastState: previous }).build(), false, ''],
    ['previous without a restart', makePod('web').container('nginx', running, { containerID: 'containerd://1' }).build(), true, 'previous terminated container "nginx" in pod "web" not found'],
    ['previous after a restart', makePod('web').container('c', running, { containerID: 'containerd://1', lastState: previous }).build(), true, ''],
    ['terminated', makePod('done').container('c', { terminated: { containerID: 'containerd://2', exitCode: 0 } }).build(), false, ''],
  ];
  for (const [name, pod, previous, want] of cases) it(name, () => assert.equal(message(() => checkLogsAvailable(pod, pod.spec!.containers[0]!.name, previous)), want));
});

describe('agent endpoint of a Node', () => {
  const node = (status: object) => ({ metadata: { name: 'n' }, status }) as Node;
  const cases: [string, Node, ReturnType<typeof nodeAgentEndpoint>][] = [
    ['InternalIP and published port', node({ addresses: [{ type: 'Hostname', address: 'n1' }, { type: 'InternalIP', address: '10.0.0.5' }], daemonEndpoints: { kubeletEndpoint: { Port: 10251 } } }), { host: '10.0.0.5', port: 10251 }],
    ['hostname only, default port', node({ addresses: [{ type: 'Hostname', address: 'n1' }] }), { host: 'n1', port: 10250 }],
    ['no address', node({}), undefined],
  ];
  for (const [name, n, want] of cases) it(name, () => assert.deepEqual(nodeAgentEndpoint(n), want));
});

/**
 * kubectl's side is a real WebSocket client speaking v5; the agent's side a SPDY server session that
 * plays containerd's remotecommand handler (v4).
 */
describe('v5 WebSocket to SPDY v4 bridge', () => {
  let http: Server;
  let wss: WebSocketServer;
  let port = 0;
  let nextAgent: (session: SpdySession) => void = () => undefined;
  let flags: StreamFlags = { stdin: true, stdout: true, stderr: true, tty: false };

  before(async () => {
    http = createServer();
    wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, handleProtocols: () => V5_CHANNEL });
    // As the connect handler does: the agent's streams exist before kubectl's handshake completes.
    http.on('upgrade', async (req, socket, head) => {
      const [a, b] = duplexPair();
      const agent = new SpdySession(b, { role: 'server' });
      nextAgent(agent);
      const client = new SpdySession(a, { role: 'client' });
      const streams = await openRemoteCommandStreams(client, flags);
      wss.handleUpgrade(req, socket, head, (ws) => void bridgeV5(ws, client, streams, V4_CHANNEL));
    });
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    port = (http.address() as AddressInfo).port;
  });
  after(() => {
    wss.close();
    http.close();
  });

  /** Collects what the agent session's streams receive, keyed by streamtype. */
  function agentStreams(session: SpdySession): Promise<Record<string, SpdyStream>> {
    return new Promise((resolve) => {
      const got: Record<string, SpdyStream> = {};
      const want = ['error', ...(flags.stdin ? ['stdin'] : []), 'stdout', ...(flags.stderr && !flags.tty ? ['stderr'] : []), ...(flags.tty ? ['resize'] : [])];
      session.on('stream', (s) => {
        s.reply();
        got[s.headers.streamtype!] = s;
        if (want.every((w) => got[w])) resolve(got);
      });
    });
  }

  function connect(): Promise<{ ws: WebSocket; messages: Buffer[]; closed: Promise<number> }> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, [V5_CHANNEL]);
    const messages: Buffer[] = [];
    ws.on('message', (d: Buffer) => messages.push(d));
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    return once(ws, 'open').then(() => ({ ws, messages, closed }));
  }

  /** The next agent session, with its stream listener attached before any SYN_STREAM can arrive. */
  function expectAgent(): Promise<{ session: SpdySession; streams: Promise<Record<string, SpdyStream>> }> {
    return new Promise((resolve) => {
      nextAgent = (session) => resolve({ session, streams: agentStreams(session) });
    });
  }

  const text = (messages: Buffer[], ch: number) => Buffer.concat(messages.filter((m) => m[0] === ch).map((m) => m.subarray(1))).toString();

  it('carries stdin (with its EOF), stdout, stderr and the exit status in channel order', async () => {
    flags = { stdin: true, stdout: true, stderr: true, tty: false };
    const agent = expectAgent();
    const { ws, messages, closed } = await connect();
    const s = await (await agent).streams;
    ws.send(Buffer.from([0, ...Buffer.from('hello ')]));
    ws.send(Buffer.from([0, ...Buffer.from('stdin')]));
    ws.send(Buffer.from([255, 0]));
    let stdin = '';
    for await (const c of s.stdin!) stdin += c.toString();
    assert.equal(stdin, 'hello stdin', 'stdin ended after channel 255');
    s.stdout!.end('out\n');
    s.stderr!.end('err\n');
    const exit3 = '{"metadata":{},"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}';
    // containerd writes the status, then drops the connection without FIN on the error stream.
    s.error!.write(exit3, () => (s.error as SpdyStream).destroy());
    await new Promise((r) => setTimeout(r, 0));
    (await agent).session.destroy();
    assert.equal(await closed, 1000);
    assert.equal(text(messages, 1), 'out\n');
    assert.equal(text(messages, 2), 'err\n');
    assert.equal(text(messages, 3), exit3);
    assert.equal(messages.at(-1)![0], 3, 'the status is the last message');
  });

  it('takes stdin from text frames too (clients that write strings), as kube-apiserver does', async () => {
    flags = { stdin: true, stdout: true, stderr: true, tty: false };
    const agent = expectAgent();
    const { ws, closed } = await connect();
    const s = await (await agent).streams;
    ws.send('\u0000from text ', { binary: false });
    ws.send(Buffer.from([0, ...Buffer.from('and binary')]), { binary: true });
    ws.send('\u00ff\u0000', { binary: false }); // U+00FF is two bytes in UTF-8: not a close, as for Go's byte reading
    ws.send(Buffer.from([255, 0]), { binary: true });
    let stdin = '';
    for await (const c of s.stdin!) stdin += c.toString();
    assert.equal(stdin, 'from text and binary');
    s.stdout!.end();
    s.stderr!.end();
    s.error!.write(SUCCESS_STATUS, () => (s.error as SpdyStream).destroy());
    await new Promise((r) => setTimeout(r, 0));
    (await agent).session.destroy();
    assert.equal(await closed, 1000);
  });

  it('forwards resize messages on a TTY and answers pings', async () => {
    flags = { stdin: true, stdout: true, stderr: false, tty: true };
    const agent = expectAgent();
    const { ws, messages, closed } = await connect();
    const s = await (await agent).streams;
    const pong = once(ws, 'pong');
    ws.ping();
    await pong;
    ws.send(Buffer.concat([Buffer.from([4]), Buffer.from('{"Width":120,"Height":40}\n')]));
    const [resize] = (await once(s.resize!, 'data')) as [Buffer];
    assert.equal(resize.toString(), '{"Width":120,"Height":40}\n');
    s.stdout!.end('$ ');
    s.error!.write(SUCCESS_STATUS, () => (s.error as SpdyStream).destroy());
    await new Promise((r) => setTimeout(r, 0));
    (await agent).session.destroy();
    assert.equal(await closed, 1000);
    assert.equal(text(messages, 1), '$ ');
    assert.equal(text(messages, 3), SUCCESS_STATUS);
  });

  it('reports an agent that went away mid-command as a failure, not success', async () => {
    flags = { stdin: false, stdout: true, stderr: true, tty: false };
    const agent = expectAgent();
    const { ws, messages, closed } = await connect();
    const s = await (await agent).streams;
    const first = once(ws, 'message');
    s.stdout!.write('partial');
    await first;
    (await agent).session.destroy();
    assert.equal(await closed, 1000);
    const status = JSON.parse(text(messages, 3)) as { status: string; reason: string; message: string };
    assert.equal(status.status, 'Failure');
    assert.equal(status.reason, 'InternalError');
    assert.match(status.message, /connection closed before the command finished/);
  });

  it('tears the agent session down when kubectl goes away', async () => {
    flags = { stdin: true, stdout: true, stderr: true, tty: false };
    const agent = expectAgent();
    const { ws } = await connect();
    await (await agent).streams;
    ws.terminate();
    await (await agent).session.closed;
  });
});
