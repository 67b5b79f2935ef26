// Watches one Node through the API and records when it is first seen Ready. For a restart on an
// existing data dir the store still holds the Ready status the previous run wrote, so only a write
// newer than `afterRevision` (the last one seen before the restart) counts.

import type { ApiClient } from '../../src/client/client.ts';
import { Nodes } from '../../src/client/resources.ts';
import type { Node } from '../../src/api/types.ts';

function isReady(n: Node): boolean {
  return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export class NodeWatch {
  readonly nodeName: string;
  /** performance.now() when a fresh Ready status was first seen. */
  readyAt: number | undefined;
  /** The Node's newest resourceVersion seen (a number: tinykube's revisions are integers). */
  lastRevision = 0;
  readonly #afterRevision: number;
  readonly #abort = new AbortController();
  #waiters: (() => void)[] = [];
  #failed: Error | undefined;
  #loop: Promise<void> | undefined;

  constructor(nodeName: string, afterRevision = 0) {
    this.nodeName = nodeName;
    this.#afterRevision = afterRevision;
  }

  #see(n: Node, at: number): void {
    if (n.metadata?.name !== this.nodeName) return;
    const rv = Number(n.metadata?.resourceVersion ?? 0);
    if (rv > this.lastRevision) this.lastRevision = rv;
    if (this.readyAt === undefined && rv > this.#afterRevision && isReady(n)) this.readyAt = at;
    for (const w of this.#waiters.splice(0)) w();
  }

  async start(client: ApiClient): Promise<void> {
    const list = await client.list<Node>(Nodes);
    const at = performance.now();
    for (const n of list.items) this.#see(n, at);
    const stream = await client.watch<Node>(Nodes, undefined, { resourceVersion: list.metadata.resourceVersion, signal: this.#abort.signal });
    this.#loop = (async () => {
      try {
        for await (const ev of stream) {
          if (ev.type === 'ERROR' || ev.type === 'BOOKMARK') continue;
          this.#see(ev.object, performance.now());
        }
      } catch (err) {
        if (!this.#abort.signal.aborted) this.#failed = err instanceof Error ? err : new Error(String(err));
      } finally {
        for (const w of this.#waiters.splice(0)) w();
      }
    })();
  }

  async waitReady(timeoutMs = 120_000): Promise<number> {
    const end = performance.now() + timeoutMs;
    while (this.readyAt === undefined) {
      if (this.#failed) throw this.#failed;
      const left = end - performance.now();
      if (left <= 0) throw new Error(`node ${this.nodeName} not Ready after ${timeoutMs} ms`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, Math.min(left, 1000));
        this.#waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
    return this.readyAt;
  }

  async close(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
  }
}
