// A minimal Chrome DevTools Protocol client for a child started with `--inspect=127.0.0.1:0`: enough to
// force a full garbage collection and read the V8 heap size, so a memory figure per pod counts what a
// process retains, not the garbage V8 has not yet bothered to collect (RSS alone mixes the two).

import WebSocket from 'ws';

/** The DevTools URL a child prints on stderr: "Debugger listening on ws://127.0.0.1:PORT/UUID". */
export function inspectorUrl(line: string): string | undefined {
  return /Debugger listening on (ws:\/\/\S+)/.exec(line)?.[1];
}

export class Inspector {
  readonly #ws: WebSocket;
  #seq = 0;
  readonly #pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  #chunks: string[] | undefined;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { id?: number; method?: string; params?: { chunk?: string }; result?: unknown; error?: { message: string } };
      if (msg.method === 'HeapProfiler.addHeapSnapshotChunk') this.#chunks?.push(msg.params?.chunk ?? '');
      if (msg.id === undefined) return;
      const p = this.#pending.get(msg.id);
      if (!p) return;
      this.#pending.delete(msg.id);
      if (msg.error) p.reject(new Error(msg.error.message));
      else p.resolve(msg.result);
    });
    ws.on('close', () => {
      for (const p of this.#pending.values()) p.reject(new Error('inspector connection closed'));
      this.#pending.clear();
    });
  }

  static connect(url: string): Promise<Inspector> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.once('open', () => resolve(new Inspector(ws)));
      ws.once('error', reject);
    });
  }

  call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = ++this.#seq;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Full GC, then the V8 heap in use (bytes). */
  async heapUsedAfterGc(): Promise<number> {
    await this.call('HeapProfiler.collectGarbage');
    const r = (await this.call('Runtime.getHeapUsage')) as { usedSize: number };
    return r.usedSize;
  }

  /**
   * Takes a heap snapshot (after a full GC) and sums the retained objects' own sizes by constructor
   * (or by kind for strings, arrays, code...): diffing two of these says what grew.
   */
  async heapByConstructor(): Promise<Map<string, { count: number; bytes: number }>> {
    await this.call('HeapProfiler.collectGarbage');
    this.#chunks = [];
    await this.call('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    const snap = JSON.parse(this.#chunks.join('')) as HeapSnapshot;
    this.#chunks = undefined;
    const f = snap.snapshot.meta.node_fields;
    const types = snap.snapshot.meta.node_types[0] as string[];
    const iType = f.indexOf('type');
    const iName = f.indexOf('name');
    const iSize = f.indexOf('self_size');
    const out = new Map<string, { count: number; bytes: number }>();
    for (let i = 0; i < snap.nodes.length; i += f.length) {
      const type = types[snap.nodes[i + iType]!]!;
      const key = type === 'object' || type === 'closure' ? `${snap.strings[snap.nodes[i + iName]!]} (${type})` : `(${type})`;
      const e = out.get(key) ?? { count: 0, bytes: 0 };
      e.count++;
      e.bytes += snap.nodes[i + iSize]!;
      out.set(key, e);
    }
    return out;
  }

  close(): void {
    this.#ws.close();
  }
}

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: unknown[] } };
  nodes: number[];
  strings: string[];
}

/** What grew between two heapByConstructor() results, largest first. */
export function heapGrowth(before: Map<string, { count: number; bytes: number }>, after: Map<string, { count: number; bytes: number }>, top = 15): { key: string; count: number; bytes: number }[] {
  const rows: { key: string; count: number; bytes: number }[] = [];
  for (const [key, a] of after) {
    const b = before.get(key) ?? { count: 0, bytes: 0 };
    rows.push({ key, count: a.count - b.count, bytes: a.bytes - b.bytes });
  }
  return rows.sort((x, y) => y.bytes - x.bytes).slice(0, top);
}
