// kubectl logs / exec / cp / port-forward end to end: real kubectl → API server (connect handler) →
// node agent streaming server → containerd's streaming server → busybox pods. Needs root.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startStreamingEnv, type StreamingEnv } from './streaming-harness.ts';
import { until } from '../../src/testing/until.ts';

let env: StreamingEnv;
let webUid = '';

function readUntil(stream: NodeJS.ReadableStream, re: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      const m = re.exec(buf);
      if (m) {
        stream.off('data', onData);
        resolve(m);
      }
    };
    stream.on('data', onData);
    stream.once('end', () => reject(new Error(`stream ended before ${re}: ${JSON.stringify(buf)}`)));
  });
}

function httpGet(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

before(async () => {
  env = await startStreamingEnv();
  const web = await env.runPod('web', [{
    name: 'web',
    // stdout and stderr reach containerd through separate pipes: the pause orders line3 after the others.
    instances: [['sh', '-c', 'mkdir -p /www; echo hello-from-web > /www/index.html; echo line1; echo line2; sleep 0.3; echo line3 >&2; exec httpd -f -p 9090 -h /www']],
  }]);
  webUid = web.uid;
  await env.runPod('crash', [{ name: 'c', instances: [['sh', '-c', 'echo run0'], ['sh', '-c', 'echo run1; exec sleep 3600']] }]);
  // The log file appears with the container's first write: until() takes a missing file as "not yet".
  const logOf = (pod: string, uid: string, c: string, n: number) => () => readFileSync(join(env.dir, 'pods', `default_${pod}_${uid}`, c, `${n}.log`), 'utf8').split('\n').length > 3;
  await until('the web pod to log', logOf('web', webUid, 'web', 0), { intervalMs: 10 });
});

after(async () => {
  await env?.close();
});

describe('kubectl logs', () => {
  const cases: [string, string[], string | RegExp][] = [
    ['all lines, both streams', ['logs', 'web'], 'line1\nline2\nline3\n'],
    ['--tail', ['logs', 'web', '--tail=2'], 'line2\nline3\n'],
    ['--timestamps', ['logs', 'web', '--tail=1', '--timestamps'], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d) line3\n$/],
    ['--limit-bytes', ['logs', 'web', '--limit-bytes=8'], 'line1\nli'],
    ['--since', ['logs', 'web', '--since=1h'], 'line1\nline2\nline3\n'],
    ['the current instance after a restart', ['logs', 'crash'], 'run1\n'],
    ['--previous after a restart', ['logs', 'crash', '--previous'], 'run0\n'],
  ];
  for (const [name, args, want] of cases) {
    it(name, async () => {
      const r = await env.kubectl(args);
      assert.equal(r.code, 0, r.stderr);
      if (typeof want === 'string') assert.equal(r.stdout, want);
      else assert.match(r.stdout, want);
    });
  }

  const errors: [string, string[], string][] = [
    ['--previous without a restart', ['logs', 'web', '--previous'], 'Error from server (BadRequest): previous terminated container "web" in pod "web" not found'],
    ['an unknown container (checked by kubectl itself)', ['logs', 'web', '-c', 'nope'], 'error: container nope is not valid for pod web'],
  ];
  for (const [name, args, want] of errors) {
    it(`reports ${name}`, async () => {
      const r = await env.kubectl(args);
      assert.equal(r.code, 1);
      assert.equal(r.stderr.trim(), want);
    });
  }

  it('reports a container that has not started', async () => {
    await env.client.create({ apiVersion: 'v1', resource: 'pods' }, 'default', { metadata: { name: 'slow' }, spec: { nodeName: 'node1', containers: [{ name: 'c', image: 'busybox' }] } });
    const r = await env.kubectl(['logs', 'slow']);
    assert.equal(r.stderr.trim(), 'Error from server (BadRequest): container "c" in pod "slow" is waiting to start: ContainerCreating');
  });

  it('-f streams new lines and ends when the container exits', async () => {
    await env.runPod('follow', [{ name: 'f', instances: [['sh', '-c', 'mkfifo /tmp/f; echo first; cat /tmp/f; echo last']] }]);
    const k = env.spawnKubectl(['logs', '-f', 'follow']);
    let out = '';
    k.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await readUntil(k.stdout!, /first\n/);
    const w = await env.kubectl(['exec', 'follow', '--', 'sh', '-c', 'echo second > /tmp/f']);
    assert.equal(w.code, 0, w.stderr);
    const [code] = (await once(k, 'exit')) as [number];
    assert.equal(code, 0);
    assert.equal(out, 'first\nsecond\nlast\n');
    // Its container has exited now: exec is refused (on the WebSocket and the SPDY attempt alike).
    const r = await env.kubectl(['exec', 'follow', '--', 'true']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim(), 'Error from server (InternalError): Internal error occurred: error executing command in container: container is in CONTAINER_EXITED state');
  });
});

describe('kubectl exec', () => {
  for (const [transport, extra] of [['WebSocket v5', {}], ['SPDY fallback', { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' }]] as const) {
    describe(transport, () => {
      it('runs a command (date)', async () => {
        const r = await env.kubectl(['exec', 'web', '--', 'date'], { env: extra });
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /\d\d:\d\d:\d\d/);
      });

      it('runs in the pod (hostname = pod name)', async () => {
        const r = await env.kubectl(['exec', 'web', '--', 'hostname'], { env: extra });
        assert.deepEqual([r.code, r.stdout], [0, 'web\n']);
      });

      it('passes stdin through and closes it at EOF (-i)', async () => {
        const r = await env.kubectl(['exec', '-i', 'web', '--', 'cat'], { stdin: 'hello stdin\n', env: extra });
        assert.deepEqual([r.code, r.stdout], [0, 'hello stdin\n']);
      });

      it('keeps stdout and stderr apart', async () => {
        const r = await env.kubectl(['exec', 'web', '--', 'sh', '-c', 'echo out; echo err >&2'], { env: extra });
        assert.equal(r.code, 0);
        assert.equal(r.stdout, 'out\n');
        assert.equal(r.stderr, 'err\n');
      });

      it('propagates the exit code', async () => {
        const r = await env.kubectl(['exec', 'web', '--', 'sh', '-c', 'exit 3'], { env: extra });
        assert.equal(r.code, 3);
        assert.equal(r.stderr.trim(), 'command terminated with exit code 3');
      });

      it('carries megabytes both ways', async () => {
        const data = randomBytes(3 * 1024 * 1024);
        const r = await env.kubectl(['exec', '-i', 'web', '--', 'cat'], { stdin: data, env: extra });
        assert.equal(r.code, 0, r.stderr);
        assert.ok(Buffer.from(r.stdout, 'latin1').equals(data));
      });
    });
  }

  it('runs an interactive shell on a TTY (-it) and returns its exit code', async () => {
    const cmd = env.kubectlArgv(['exec', '-it', 'web', '--', 'sh']).join(' ');
    const r = await env.run('script', ['-qefc', cmd, '/dev/null'], { stdin: 'echo tty-$((2+3)) $(tty)\nexit 5\n' });
    assert.equal(r.code, 5, r.stdout + r.stderr);
    assert.match(r.stdout, /tty-5 \/dev\/pts\/\d+/);
  });

  it('reports an unknown container on both attempts', async () => {
    const r = await env.kubectl(['exec', 'web', '-c', 'nope', '--', 'true']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /container nope is not valid for pod web/);
  });

  it('reports a missing executable', async () => {
    const r = await env.kubectl(['exec', 'web', '--', 'no-such-binary']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /no-such-binary/);
  });
});

describe('kubectl attach', () => {
  it('attaches to the main process: its stdin, then its output until it exits', async () => {
    await env.runPod('talker', [{ name: 't', stdin: true, instances: [['sh', '-c', 'while read l; do echo got $l; done; echo bye']] }]);
    const r = await env.kubectl(['attach', '-i', 'talker'], { stdin: 'one\ntwo\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /got one\ngot two\nbye\n$/);
  });
});

describe('kubectl cp', () => {
  it('copies a file into the pod and back', async () => {
    const data = Buffer.concat([Buffer.from('copy me\n'), randomBytes(300_000)]);
    writeFileSync(join(env.dir, 'local.bin'), data);
    const up = await env.kubectl(['cp', 'local.bin', 'web:/tmp/remote.bin']);
    assert.equal(up.code, 0, up.stderr);
    const sum = await env.kubectl(['exec', 'web', '--', 'wc', '-c', '/tmp/remote.bin']);
    assert.equal(sum.stdout.trim().split(/\s+/)[0], String(data.length));
    const down = await env.kubectl(['cp', 'web:/tmp/remote.bin', 'back.bin']);
    assert.equal(down.code, 0, down.stderr);
    assert.ok(readFileSync(join(env.dir, 'back.bin')).equals(data));
  });

  it('copies into a directory in the pod', async () => {
    writeFileSync(join(env.dir, 'note.txt'), 'a note\n');
    await env.kubectl(['exec', 'web', '--', 'mkdir', '-p', '/tmp/dir']);
    const up = await env.kubectl(['cp', 'note.txt', 'web:/tmp/dir']);
    assert.equal(up.code, 0, up.stderr);
    const r = await env.kubectl(['exec', 'web', '--', 'cat', '/tmp/dir/note.txt']);
    assert.equal(r.stdout, 'a note\n');
  });
});

describe('kubectl port-forward', () => {
  for (const [transport, extra] of [['SPDY in WebSocket', {}], ['raw SPDY', { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }]] as const) {
    it(`forwards several connections at once (${transport})`, async () => {
      const k = env.spawnKubectl(['port-forward', 'pod/web', '0:9090'], extra);
      try {
        const [, port] = await readUntil(k.stdout!, /Forwarding from 127\.0\.0\.1:(\d+) -> 9090/);
        const bodies = await Promise.all(Array.from({ length: 6 }, () => httpGet(Number(port), '/index.html')));
        assert.deepEqual(bodies, Array(6).fill('hello-from-web\n'));
        // And again, sequentially, on the same session.
        assert.equal(await httpGet(Number(port), '/index.html'), 'hello-from-web\n');
      } finally {
        await stop(k);
      }
    });
  }

  it('reports a port nothing listens on', async () => {
    const k = env.spawnKubectl(['port-forward', 'pod/web', '0:9999']);
    let err = '';
    k.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    try {
      const [, port] = await readUntil(k.stdout!, /Forwarding from 127\.0\.0\.1:(\d+) -> 9999/);
      await httpGet(Number(port), '/').catch(() => '');
      await once(k, 'exit');
      assert.match(err, /an error occurred forwarding \d+ -> 9999: .*connection refused/);
    } finally {
      await stop(k);
    }
  });
});

describe('other clients', () => {
  it('relays a WebSocket exec offering only v4.channel.k8s.io to containerd as it is', async () => {
    const { WebSocket } = await import('ws');
    const pki = env.cp.pki;
    const ws = new WebSocket(`${env.url.replace('https', 'wss')}/api/v1/namespaces/default/pods/web/exec?command=echo&command=hi&container=web&stdout=true`, ['v4.channel.k8s.io'], {
      ca: pki.caCertPem, cert: pki.adminCertPem, key: pki.adminKeyPem,
    });
    const messages: Buffer[] = [];
    ws.on('message', (d: Buffer) => messages.push(d));
    const [code] = (await once(ws, 'close')) as [number];
    assert.equal(ws.protocol, 'v4.channel.k8s.io');
    assert.equal(code, 1000);
    const on = (ch: number) => Buffer.concat(messages.filter((m) => m[0] === ch).map((m) => m.subarray(1))).toString();
    assert.equal(on(1), 'hi\n');
    assert.equal(on(3), '{"metadata":{},"status":"Success"}');
  });
});

describe('connections', () => {
  it('leaves no upgraded connection open once every kubectl exited', async () => {
    await until('upgraded connections to close', () => env.openUpgrades().length === 0, { timeoutMs: 5000, intervalMs: 10 }).catch(() => undefined);
    assert.deepEqual(env.openUpgrades(), []);
  });

  it('ends running sessions when the API server shuts them down', async () => {
    const k = env.spawnKubectl(['exec', 'web', '--', 'sleep', '60']);
    await until('the exec session', () => env.openUpgrades().length === 1, { intervalMs: 10 });
    env.closeUpgrades();
    const [code] = (await once(k, 'exit')) as [number];
    assert.notEqual(code, 0);
    // kubectl may exit before the server has seen its socket close.
    await until('the session to be gone', () => env.openUpgrades().length === 0, { timeoutMs: 5000, intervalMs: 10 }).catch(() => undefined);
    assert.deepEqual(env.openUpgrades(), []);
  });
});
