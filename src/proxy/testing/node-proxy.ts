// A node's proxy as its own process, for tests that need it inside a network namespace (its health
// check ports listen there, its nft and conntrack act there) and need to kill and restart it: run as
// `ip netns exec NS node node-proxy.ts '<NodeFacts JSON>'`. Informer events come in on stdin, one JSON
// line each ({op: add|update|delete, kind: service|slice, obj, old?}; {op: start}; {op: stop} deletes
// the table and exits; {op: exit} exits leaving the table, as a crash would). What it does goes out on
// stdout as JSON lines: {event: started|sync|warning|error|stopped, ...}; a sync's line comes after the
// health check ports it opened are bound (or failed). The ProxyProcess class drives it from a test.

import { createInterface } from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { EndpointSlice, Service } from '../../api/types.ts';
import type { NodeFacts } from '../model.ts';
import { CommandRunner } from '../nft.ts';
import { Proxier } from '../proxier.ts';
import { ProxyHealth, ServiceHealthServer } from '../health.ts';
import { PushSource } from './source.ts';
import type { NetnsLab } from './netns.ts';

type In =
  | { op: 'add' | 'update' | 'delete'; kind: 'service'; obj: Service; old?: Service }
  | { op: 'add' | 'update' | 'delete'; kind: 'slice'; obj: EndpointSlice; old?: EndpointSlice }
  | { op: 'start' | 'stop' | 'exit' };

export type Out = { event: string; [k: string]: unknown };

function main(node: NodeFacts): void {
  const out = (o: Out): void => void process.stdout.write(JSON.stringify(o) + '\n');
  const services = new PushSource<Service>();
  const slices = new PushSource<EndpointSlice>();
  const health = new ProxyHealth();
  const hs = new ServiceHealthServer({
    nodeName: node.name,
    health,
    events: { serviceWarning: (svc, reason, message) => out({ event: 'warning', svc, reason, message }) },
  });
  const proxier = new Proxier({
    services,
    slices,
    node,
    runner: new CommandRunner(),
    health,
    serviceHealth: hs,
    onSync: (r) => void hs.idle().then(() => out({ event: 'sync', kind: r.kind, ok: r.ok, error: r.error, listening: [...hs.listening()] })),
    onError: (e) => out({ event: 'error', message: e.message }),
  });
  createInterface({ input: process.stdin }).on('line', (line) => {
    const m = JSON.parse(line) as In;
    if (!('kind' in m)) {
      if (m.op === 'start') void proxier.start().then(() => out({ event: 'started' }));
      else if (m.op === 'stop') void proxier.stop().then(async (r) => {
        await hs.stop();
        out({ event: 'stopped', ok: r.ok });
        process.exit(0);
      });
      else process.exit(0);
    } else if (m.kind === 'service') apply(services, m.op, m.obj, m.old);
    else apply(slices, m.op, m.obj, m.old);
  });
}

function apply<T>(src: PushSource<T>, op: 'add' | 'update' | 'delete', obj: T, old: T | undefined): void {
  if (op === 'add') src.add(obj);
  else if (op === 'update') src.update(old ?? obj, obj);
  else src.delete(obj);
}

/** The test's side: starts the process in `ns` and reads what it says. */
export class ProxyProcess {
  readonly #child: ChildProcess;
  readonly #seen: Out[] = [];
  readonly #waiters: Array<{ pred: (o: Out) => boolean; resolve: (o: Out) => void }> = [];
  #exited = false;

  constructor(lab: NetnsLab, ns: string, node: NodeFacts) {
    this.#child = lab.spawn(ns, [process.execPath, fileURLToPath(import.meta.url), JSON.stringify(node)]);
    createInterface({ input: this.#child.stdout! }).on('line', (line) => {
      const o = JSON.parse(line) as Out;
      const i = this.#waiters.findIndex((w) => w.pred(o));
      if (i >= 0) this.#waiters.splice(i, 1)[0].resolve(o);
      else this.#seen.push(o);
    });
    this.#child.on('exit', () => {
      this.#exited = true;
      for (const w of this.#waiters.splice(0)) w.resolve({ event: 'exited' });
    });
  }

  send(m: In): void {
    this.#child.stdin!.write(JSON.stringify(m) + '\n');
  }

  /** The first line (already seen and not yet taken, or to come) that `pred` accepts; `{event: 'exited'}` if the process ends first. */
  next(pred: (o: Out) => boolean): Promise<Out> {
    const i = this.#seen.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.#seen.splice(i, 1)[0]);
    if (this.#exited) return Promise.resolve({ event: 'exited' });
    return new Promise((resolve) => this.#waiters.push({ pred, resolve }));
  }

  /** Everything said and not taken by next(), and forgets it. */
  drain(): Out[] {
    return this.#seen.splice(0);
  }

  /** Ends the process as a crash would (the table stays), and waits for it. */
  async kill(): Promise<void> {
    if (this.#exited) return;
    const gone = new Promise((r) => this.#child.once('exit', r));
    this.send({ op: 'exit' });
    await gone;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main(JSON.parse(process.argv[2]) as NodeFacts);
