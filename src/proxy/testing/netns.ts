// A throwaway network lab for the proxy's integration test and bench: network namespaces this process
// creates (names carry its pid), veth pairs made directly between them (never in the host's namespace),
// small TCP servers and clients run inside them. cleanup() kills every process it started, by pid, and
// deletes every namespace it made (which removes their links), whatever state a failed test left.
// Test and bench only; needs root.

import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export class NetnsLab {
  readonly #tag: string;
  readonly #namespaces: string[] = [];
  readonly #procs: ChildProcess[] = [];

  constructor(tag: string) {
    this.#tag = `tk${tag}${process.pid}`;
  }

  /** Creates a namespace with loopback up; returns its name. */
  async ns(short: string): Promise<string> {
    const name = `${this.#tag}-${short}`;
    await run('ip', ['netns', 'add', name]);
    this.#namespaces.push(name);
    await this.exec(name, ['ip', 'link', 'set', 'lo', 'up']);
    return name;
  }

  /** Runs a command inside `ns` and returns its stdout; throws with its stderr on failure. */
  async exec(ns: string, argv: readonly string[], input?: string): Promise<string> {
    if (input === undefined) {
      const { stdout } = await run('ip', ['netns', 'exec', ns, ...argv], { maxBuffer: 256 * 1024 * 1024 });
      return stdout;
    }
    return new Promise((resolve, reject) => {
      const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
      child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${argv.join(' ')} in ${ns} exited ${code}: ${err}`))));
      child.stdin.end(input);
    });
  }

  /** A veth pair from `a` (interface `ifA`, address `addrA`) to `b`; both ends up. */
  async veth(a: string, ifA: string, addrA: string | undefined, b: string, ifB: string, addrB: string | undefined): Promise<void> {
    await run('ip', ['-n', a, 'link', 'add', ifA, 'type', 'veth', 'peer', 'name', ifB, 'netns', b]);
    for (const [ns, dev, addr] of [[a, ifA, addrA], [b, ifB, addrB]] as const) {
      if (addr) await run('ip', ['-n', ns, 'addr', 'add', addr, 'dev', dev]);
      await run('ip', ['-n', ns, 'link', 'set', dev, 'up']);
    }
  }

  /**
   * Starts a TCP server in `ns` on `port` answering every connection with `<reply> <client address>`
   * and a newline; resolves once it listens.
   */
  async tcpServer(ns: string, port: number, reply: string): Promise<ChildProcess> {
    const script = `require('net').createServer((s) => { s.on('error', () => {}); s.end(${JSON.stringify(reply)} + ' ' + s.remoteAddress.replace(/^::ffff:/, '') + '\\n'); }).listen(${port}, () => console.log('listening'));`;
    return this.#listening(ns, script);
  }

  /**
   * Makes `ns` a node as the proxy tests need it: forwarding on, a pod bridge br0 at 10.244.0.1/24, and
   * the service range 10.43.0.0/16 routed to it, as a node's default route would take it (unanswered
   * ClusterIP traffic then reaches the forward hook, where the proxy refuses it).
   */
  async proxyNode(ns: string): Promise<void> {
    await this.exec(ns, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    await this.exec(ns, ['ip', 'link', 'add', 'br0', 'type', 'bridge']);
    await this.exec(ns, ['ip', 'addr', 'add', '10.244.0.1/24', 'dev', 'br0']);
    await this.exec(ns, ['ip', 'link', 'set', 'br0', 'up']);
    await this.exec(ns, ['ip', 'route', 'add', '10.43.0.0/16', 'dev', 'br0']);
  }

  /**
   * Makes `count` TCP connections from `ns` to `host:port`, one after another, each read to its end
   * (or failing: `ERR:<code>`), and returns what each got, trimmed, with its duration in ms.
   */
  async connect(ns: string, host: string, port: number, count: number): Promise<Array<{ got: string; ms: number }>> {
    const script = `
      const net = require('net');
      const one = () => new Promise((resolve) => {
        const t0 = Date.now(); let data = '';
        const s = net.connect({ host: ${JSON.stringify(host)}, port: ${port} });
        s.setTimeout(3000, () => { s.destroy(); resolve({ got: 'ERR:TIMEOUT', ms: Date.now() - t0 }); });
        s.on('data', (d) => (data += d));
        s.on('end', () => resolve({ got: data.trim(), ms: Date.now() - t0 }));
        s.on('error', (e) => resolve({ got: 'ERR:' + e.code, ms: Date.now() - t0 }));
      });
      (async () => { const out = []; for (let i = 0; i < ${count}; i++) out.push(await one()); console.log(JSON.stringify(out)); })();`;
    return JSON.parse(await this.exec(ns, [process.execPath, '-e', script])) as Array<{ got: string; ms: number }>;
  }

  /** Starts `argv` inside `ns` (killed by cleanup()); stdin and stdout are pipes, stderr is inherited. */
  spawn(ns: string, argv: readonly string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.#procs.push(child);
    return child;
  }

  /** A TCP server in `ns` that answers each line with `<reply> <line>`, keeping the connection open. */
  async echoServer(ns: string, port: number, reply: string): Promise<ChildProcess> {
    const script = `require('net').createServer((s) => { s.on('error', () => {}); let buf = ''; s.setEncoding('utf8'); s.on('data', (d) => { buf += d; let i; while ((i = buf.indexOf('\\n')) >= 0) { s.write(${JSON.stringify(reply)} + ' ' + buf.slice(0, i) + '\\n'); buf = buf.slice(i + 1); } }); }).listen(${port}, () => console.log('listening'));`;
    return this.#listening(ns, script);
  }

  /** A UDP server in `ns` answering every datagram with `reply`. */
  async udpServer(ns: string, port: number, reply: string): Promise<ChildProcess> {
    const script = `const s = require('dgram').createSocket('udp4'); s.on('message', (m, r) => s.send(${JSON.stringify(reply)}, r.port, r.address)); s.bind(${port}, () => console.log('listening'));`;
    return this.#listening(ns, script);
  }

  async #listening(ns: string, script: string): Promise<ChildProcess> {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.#procs.push(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout!.setEncoding('utf8').on('data', (d: string) => d.includes('listening') && resolve());
      child.on('exit', (code) => reject(new Error(`server in ${ns} exited ${code}`)));
    });
    return child;
  }

  /**
   * One datagram from `ns`, from source port `srcPort` (the same port makes the same conntrack flow
   * each time), to `host:port`; resolves with the reply or `TIMEOUT` after 2 s.
   */
  async udpAsk(ns: string, host: string, port: number, srcPort: number): Promise<string> {
    const script = `const s = require('dgram').createSocket({ type: 'udp4', reuseAddr: true });
      const t = setTimeout(() => { console.log('TIMEOUT'); s.close(); }, 2000);
      s.on('message', (m) => { clearTimeout(t); console.log(m.toString()); s.close(); });
      s.bind(${srcPort}, () => s.send('?', ${port}, ${JSON.stringify(host)}));`;
    return (await this.exec(ns, [process.execPath, '-e', script])).trim();
  }

  /**
   * A long-lived TCP connection from `ns` to `host:port`: send() writes a line and resolves with the
   * next line the server sends back (or `ERR:<code>`/`ERR:TIMEOUT` after 3 s).
   */
  async session(ns: string, host: string, port: number): Promise<{ send(line: string): Promise<string>; close(): void }> {
    const script = `const s = require('net').connect({ host: ${JSON.stringify(host)}, port: ${port} }, () => console.log('connected'));
      let buf = ''; let t;
      s.setEncoding('utf8');
      s.on('data', (d) => { buf += d; let i; while ((i = buf.indexOf('\\n')) >= 0) { clearTimeout(t); console.log(buf.slice(0, i)); buf = buf.slice(i + 1); } });
      s.on('error', (e) => { console.log('ERR:' + e.code); process.exit(0); });
      require('readline').createInterface({ input: process.stdin }).on('line', (l) => { t = setTimeout(() => console.log('ERR:TIMEOUT'), 3000); s.write(l + '\\n'); }).on('close', () => s.destroy());`;
    const child = this.spawn(ns, [process.execPath, '-e', script]);
    const lines: string[] = [];
    const waiters: Array<(l: string) => void> = [];
    let buf = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const w = waiters.shift();
        if (w) w(line);
        else lines.push(line);
      }
    });
    child.on('exit', () => {
      for (const w of waiters.splice(0)) w('ERR:EXITED');
    });
    const next = (): Promise<string> => (lines.length ? Promise.resolve(lines.shift()!) : new Promise((r) => waiters.push(r)));
    const hello = await next();
    if (hello !== 'connected') throw new Error(`no connection from ${ns} to ${host}:${port}: ${hello}`);
    return {
      send: (line: string) => {
        child.stdin!.write(line + '\n');
        return next();
      },
      close: () => void child.stdin!.end(),
    };
  }

  /** An HTTP GET from `ns`: status, the headers asked for, and the body (`status: 0` and the error code when it fails). */
  async httpGet(ns: string, url: string): Promise<{ status: number; headers: Record<string, string | null>; body: string }> {
    const script = `fetch(${JSON.stringify(url)}, { signal: AbortSignal.timeout(3000) }).then(async (r) => console.log(JSON.stringify({ status: r.status, headers: { 'content-type': r.headers.get('content-type'), 'x-content-type-options': r.headers.get('x-content-type-options') }, body: await r.text() })), (e) => console.log(JSON.stringify({ status: 0, headers: {}, body: String(e.cause?.code ?? e.name) })));`;
    return JSON.parse(await this.exec(ns, [process.execPath, '-e', script])) as { status: number; headers: Record<string, string | null>; body: string };
  }

  async cleanup(): Promise<void> {
    for (const p of this.#procs) {
      if (p.exitCode === null && p.signalCode === null && p.pid) {
        const exited = new Promise((r) => p.once('exit', r));
        try {
          process.kill(p.pid, 'SIGKILL');
          await exited;
        } catch {
          // already gone
        }
      }
    }
    for (const ns of this.#namespaces.reverse()) await run('ip', ['netns', 'del', ns]).catch(() => {});
  }
}
