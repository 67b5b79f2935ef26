// A minimal HTTPS client for the benchmarks: keep-alive connections to one API server, bearer
// token, raw bodies (so the measured cost is the server's, not a client library's), and watch
// streams delivered line by line with their arrival time.

import { Agent, request } from 'node:https';

export interface Target {
  port: number;
  ca: string;
  token: string;
}

export interface Reply {
  status: number;
  body: Buffer;
}

export class BenchClient {
  readonly #target: Target;
  readonly #agent: Agent;

  /** `connections` is the most sockets kept open (one per concurrent request). */
  constructor(target: Target, connections: number) {
    this.#target = target;
    this.#agent = new Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  }

  request(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const h: Record<string, string | number> = { Authorization: `Bearer ${this.#target.token}`, ...headers };
      if (body !== undefined) {
        h['Content-Type'] ??= 'application/json';
        h['Content-Length'] = Buffer.byteLength(body);
      }
      const req = request({ host: '127.0.0.1', port: this.#target.port, method, path, headers: h, agent: this.#agent, ca: this.#target.ca, servername: 'localhost' }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Like request, failing unless the status is the expected one. */
  async expect(status: number, method: string, path: string, body?: string, headers?: Record<string, string>): Promise<Reply> {
    const r = await this.request(method, path, body, headers);
    if (r.status !== status) throw new Error(`${method} ${path}: ${r.status}, want ${status}: ${r.body.toString('utf8').slice(0, 300)}`);
    return r;
  }

  close(): void {
    this.#agent.destroy();
  }
}

export interface WatchStream {
  /** Resolves when the response headers arrived (the watch is established). */
  ready: Promise<void>;
  close(): void;
}

/** Opens a watch on its own connection; `onLine` gets each event line and the time it arrived. */
export function openWatch(target: Target, path: string, onLine: (line: string, at: number) => void): WatchStream {
  let ready!: () => void;
  let failed!: (e: Error) => void;
  const readyP = new Promise<void>((res, rej) => {
    ready = res;
    failed = rej;
  });
  const req = request({ host: '127.0.0.1', port: target.port, method: 'GET', path, agent: false, ca: target.ca, servername: 'localhost', headers: { Authorization: `Bearer ${target.token}` } }, (res) => {
    if (res.statusCode !== 200) {
      failed(new Error(`watch ${path}: ${res.statusCode}`));
      res.resume();
      return;
    }
    ready();
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => {
      const at = performance.now();
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line) onLine(line, at);
      }
    });
    res.on('error', () => {});
  });
  req.on('error', (e) => failed(e));
  req.end();
  return { ready: readyP, close: () => req.destroy() };
}
