// The node's service proxy: Services and EndpointSlices from informers → nftables, kube-proxy's
// nftables mode in shape (pkg/proxy/nftables/proxier.go).
//
//  - Informer handlers only record what changed (the Service's key) and when; they never block.
//  - One sync at a time. A change schedules a sync no sooner than MIN_SYNC_INTERVAL_MS after the start
//    of the previous one, so a burst of events (a rollout touching many slices) becomes one transaction
//    while a lone change reaches the kernel at once. kube-proxy's default --min-sync-period is 1 s
//    because an iptables-restore of the whole table costs that much at scale; an nft transaction of a
//    few changed chains costs milliseconds, so 10 ms keeps change→kernel latency low and still caps the
//    proxy at ~100 nft runs a second under constant churn.
//  - A partial sync rebuilds only the changed Services' parts and applies the difference; the first sync
//    and one after any failed transaction recreate the whole table; every FULL_SYNC_PERIOD_MS (an hour,
//    as kube-proxy's nftables mode: proxyutil.FullSyncPeriod) a refresh rewrites everything from the
//    caches, repairing drift (someone flushing a chain, a lost element).
//  - stop() deletes the table: nothing of the proxy stays in the kernel.
//  - Health (health.ts): a change seen is "queued" until a sync succeeds; after each successful sync
//    the Services' health check node ports get their local endpoint counts (as kube-proxy, only what
//    reached the kernel is reported).

import type { EndpointSlice, Service } from '../api/types.ts';
import { LABEL_SERVICE_NAME } from '../api/network.ts';
import type { Clock, Timer } from '../util/clock.ts';
import { realClock } from '../util/clock.ts';
import type { EventHandler } from '../client/informer.ts';
import { keyOf } from '../client/cache.ts';
import { buildModel, buildServicePart, serviceKey, updateModel } from './builder.ts';
import { flat } from '../util/flat.ts';
import { proxiedSlice } from './endpoints.ts';
import { EndpointIdAllocator } from './endpointmaps.ts';
import type { HealthCheck, NodeFacts, ServicePart, TableModel } from './model.ts';
import type { ProxyHealth, ServiceHealthSync } from './health.ts';
import { TABLE_FAMILY, TABLE_NAME } from './model.ts';
import type { NftRunner, RunResult } from './nft.ts';
import { HairpinRefs, diffScript, fullScript, fullScriptChunks } from './script.ts';

export const MIN_SYNC_INTERVAL_MS = 10;
// kube-proxy's nftables proxier forces a full sync when one is needed (start, a failed transaction,
// node labels) or when an hour has passed since the last (`doFullSync`, proxyutil.FullSyncPeriod); its
// other syncs only write what changed. A refresh of 10,000 Services costs ~5 s of nft CPU: once a minute
// that was ~8% of a 2-core node's CPU to repair drift nobody should cause.
export const FULL_SYNC_PERIOD_MS = 3_600_000;
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30_000;
/** Per-sync cap on recorded change latencies (a full list of 100k services must not make 100k samples). */
const MAX_SAMPLES = 1000;

/** What the proxier needs of an informer: handlers and the initial list. The caller starts and stops it. */
export interface InformerSource<T> {
  addEventHandler(handler: EventHandler<T>): () => void;
  waitForSync(signal?: AbortSignal): Promise<void>;
}

export interface SyncRecord {
  readonly kind: 'recreate' | 'refresh' | 'partial';
  readonly ok: boolean;
  /** Building, diffing and applying, in ms. */
  readonly durationMs: number;
  readonly scriptBytes: number;
  readonly services: number;
  /** For events this sync carried to the kernel: ms from the informer event to the transaction's success. */
  readonly latenciesMs: readonly number[];
  readonly error?: string;
}

export interface ProxierOptions {
  readonly services: InformerSource<Service>;
  readonly slices: InformerSource<EndpointSlice>;
  readonly node: NodeFacts;
  readonly runner: NftRunner;
  readonly clock?: Clock;
  readonly minSyncIntervalMs?: number;
  readonly fullSyncPeriodMs?: number;
  /** Failed transactions, failed conntrack cleanups, handler errors. */
  readonly onError?: (err: Error) => void;
  readonly onSync?: (r: SyncRecord) => void;
  /** The proxy's health (kube-proxy's healthz state), told of queued changes and successful syncs. */
  readonly health?: ProxyHealth;
  /** The Services' health check node ports, given their local endpoint counts after each successful sync. */
  readonly serviceHealth?: ServiceHealthSync;
}

export class ProxyError extends Error {
  readonly code = 'ERR_PROXY_SYNC';
  constructor(message: string) {
    super(message);
    this.name = 'ProxyError';
  }
}

export class Proxier {
  readonly #o: ProxierOptions;
  readonly #clock: Clock;
  readonly #minInterval: number;
  readonly #fullPeriod: number;
  readonly #services = new Map<string, Service>();
  /** service key → its slices (a few at most: one per 100 endpoints; an array, not a Map each, for 10,000 Services). */
  readonly #slices = new Map<string, readonly EndpointSlice[]>();
  #dirty = new Set<string>();
  #eventTimes: number[] = [];
  #model: TableModel | undefined;
  #needRecreate = true;
  #lastFull = 0;
  #lastStart = -Infinity;
  #timer: Timer | undefined;
  #fullTimer: Timer | undefined;
  #running: Promise<void> | undefined;
  #started = false;
  #stopped = false;
  #retryMs = 0;
  #removers: Array<() => void> = [];
  readonly #ids = new EndpointIdAllocator();
  /** The hairpin endpoints of the model the kernel holds. */
  readonly #hairpin = new HairpinRefs();

  constructor(o: ProxierOptions) {
    this.#o = o;
    this.#clock = o.clock ?? realClock;
    this.#minInterval = o.minSyncIntervalMs ?? MIN_SYNC_INTERVAL_MS;
    this.#fullPeriod = o.fullSyncPeriodMs ?? FULL_SYNC_PERIOD_MS;
    this.#removers.push(
      o.services.addEventHandler({
        onAdd: (s) => this.#setService(s),
        onUpdate: (_, s) => this.#setService(s),
        onDelete: (s) => this.#deleteService(s),
      }),
      o.slices.addEventHandler({
        onAdd: (s) => this.#setSlice(undefined, s),
        onUpdate: (old, s) => this.#setSlice(old, s),
        onDelete: (s) => this.#setSlice(s, undefined),
      }),
    );
  }

  /** Waits for both informers' first lists, then programs the whole table. Resolves after that first sync. */
  async start(signal?: AbortSignal): Promise<void> {
    // Healthy from the start, as kube-proxy's SyncLoop marks itself updated before its first sync.
    this.#o.health?.updated();
    await Promise.all([this.#o.services.waitForSync(signal), this.#o.slices.waitForSync(signal)]);
    if (this.#stopped) return;
    this.#started = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    await (this.#running ?? this.#runNow());
  }

  /** Stops syncing and deletes the table. Returns the outcome of the deletion. */
  async stop(): Promise<RunResult> {
    this.#stopped = true;
    for (const r of this.#removers) r();
    this.#removers = [];
    this.#timer?.cancel();
    this.#fullTimer?.cancel();
    await this.#running;
    const t = `${TABLE_FAMILY} ${TABLE_NAME}`;
    // `add` first makes the deletion succeed whether or not the table exists.
    const r = await this.#o.runner.apply(`add table ${t}\ndelete table ${t}\n`);
    this.#o.runner.close?.();
    return r;
  }

  /** The model last applied to the kernel (undefined before the first successful sync). */
  get model(): TableModel | undefined {
    return this.#model;
  }

  #mark(key: string): void {
    this.#dirty.add(key);
    if (this.#eventTimes.length < MAX_SAMPLES) this.#eventTimes.push(this.#clock.now());
    if (this.#started) {
      this.#o.health?.queued();
      this.#kick(Math.max(0, this.#lastStart + this.#minInterval - this.#clock.now()));
    }
  }

  #setService(s: Service): void {
    const key = serviceKey(s);
    this.#services.set(key, s);
    this.#mark(key);
  }

  #deleteService(s: Service): void {
    const key = serviceKey(s);
    this.#services.delete(key);
    this.#mark(key);
  }

  #setSlice(old: EndpointSlice | undefined, cur: EndpointSlice | undefined): void {
    const sliceKey = keyOf((cur ?? old)!);
    const touched = new Set<string>();
    for (const [s, keep] of [[old, false], [cur, true]] as const) {
      if (!s) continue;
      const svc = s.metadata?.labels?.[LABEL_SERVICE_NAME];
      if (!svc) continue;
      const key = flat`${s.metadata?.namespace ?? ''}/${svc}`;
      const others = (this.#slices.get(key) ?? []).filter((x) => keyOf(x) !== sliceKey);
      const list = keep && proxiedSlice(s) ? [...others, s] : others;
      if (list.length > 0) this.#slices.set(key, list);
      else this.#slices.delete(key);
      touched.add(key);
    }
    for (const key of touched) this.#mark(key);
  }

  /** Schedules a sync in `delayMs` unless one is scheduled or running (a running one re-kicks when done). */
  #kick(delayMs: number): void {
    if (this.#stopped || this.#timer || this.#running) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      void this.#runNow();
    }, delayMs);
  }

  #runNow(): Promise<void> {
    this.#running = this.#sync().finally(() => {
      this.#running = undefined;
      this.#afterSync();
    });
    return this.#running;
  }

  #afterSync(): void {
    if (this.#stopped) return;
    if (this.#retryMs > 0) {
      this.#kick(this.#retryMs);
      return;
    }
    if (this.#dirty.size > 0) this.#kick(Math.max(0, this.#lastStart + this.#minInterval - this.#clock.now()));
    this.#fullTimer?.cancel();
    this.#fullTimer = this.#clock.setTimeout(() => {
      this.#fullTimer = undefined;
      this.#kick(0);
    }, Math.max(0, this.#lastFull + this.#fullPeriod - this.#clock.now()));
  }

  async #sync(): Promise<void> {
    const start = this.#clock.now();
    this.#lastStart = start;
    const dirty = this.#dirty;
    const events = this.#eventTimes;
    this.#dirty = new Set();
    this.#eventTimes = [];
    const prev = this.#model;
    let kind: SyncRecord['kind'];
    let script: string;
    /** A whole table, for a runner that takes it in pieces. */
    let chunks: Iterable<string> | undefined;
    let bytes = 0;
    let next: TableModel;
    let conntrack: ReturnType<typeof diffScript>['conntrack'] = [];
    let hairpin: ReturnType<typeof diffScript>['hairpin'] | undefined;
    if (this.#needRecreate || !prev || start - this.#lastFull >= this.#fullPeriod) {
      kind = this.#needRecreate || !prev ? 'recreate' : 'refresh';
      next = buildModel(this.#services.values(), this.#allSlices(), this.#o.node, this.#ids);
      if (this.#o.runner.applyChunks) {
        script = '';
        const all = fullScriptChunks(next, kind, prev);
        chunks = (function* () {
          for (const c of all) {
            bytes += c.length;
            yield c;
          }
        })();
      } else script = fullScript(next, kind, prev);
      if (prev) conntrack = diffScript(prev, next).conntrack;
    } else {
      kind = 'partial';
      const updates = new Map<string, ServicePart | undefined>();
      for (const key of dirty) {
        const svc = this.#services.get(key);
        updates.set(key, svc ? buildServicePart(svc, this.#slices.get(key) ?? [], this.#o.node, this.#ids) : undefined);
      }
      next = updateModel(prev, updates);
      const tx = diffScript(prev, next, dirty, this.#hairpin);
      script = tx.script;
      conntrack = tx.conntrack;
      hairpin = tx.hairpin;
    }
    const result: RunResult = chunks ? await this.#o.runner.applyChunks!(chunks) : script ? await this.#o.runner.apply(script) : { ok: true };
    const end = this.#clock.now();
    if (result.ok) {
      this.#model = next;
      this.#needRecreate = false;
      this.#retryMs = 0;
      if (kind !== 'partial') this.#lastFull = start;
      if (hairpin) this.#hairpin.apply(hairpin);
      else this.#hairpin.reset(next);
      this.#releaseIds(prev, next, kind === 'partial' ? dirty : undefined);
      this.#o.health?.updated();
      if (this.#o.serviceHealth) {
        const checks = new Map<string, HealthCheck | undefined>();
        if (kind === 'partial') for (const key of dirty) checks.set(key, next.services.get(key)?.healthCheck);
        else for (const [key, part] of next.services) if (part.healthCheck) checks.set(key, part.healthCheck);
        this.#o.serviceHealth.sync(checks, kind !== 'partial');
      }
      if (conntrack.length > 0) {
        const ct = await this.#o.runner.flushConntrack(conntrack);
        if (!ct.ok) this.#o.onError?.(new ProxyError(`conntrack cleanup: ${ct.error}`));
      }
    } else {
      // The kernel's table is now of unknown shape relative to the model: rebuild it whole, after a backoff.
      this.#needRecreate = true;
      this.#retryMs = Math.min(RETRY_MAX_MS, this.#retryMs ? this.#retryMs * 2 : RETRY_MIN_MS);
      for (const k of dirty) this.#dirty.add(k);
      // What failed is still waiting for the kernel, the first full sync's initial lists included
      // (kube-proxy counts only events after start, so a first sync failing for good never turned it unhealthy).
      this.#o.health?.queued();
      this.#eventTimes.push(...events.slice(0, MAX_SAMPLES - this.#eventTimes.length));
      this.#o.onError?.(new ProxyError(`${kind} sync failed: ${result.error}`));
    }
    this.#o.onSync?.({
      kind,
      ok: result.ok,
      durationMs: end - start,
      scriptBytes: chunks ? bytes : script.length,
      services: next.services.size,
      latenciesMs: result.ok ? events.map((t) => end - t) : [],
      error: result.ok ? undefined : result.error,
    });
  }

  /**
   * Frees the endpoint-map ids of chains the applied transaction removed (of the `changed` Services, or
   * all). Ids a failed sync handed out stay taken until the next full sync succeeds.
   */
  #releaseIds(prev: TableModel | undefined, next: TableModel, changed: ReadonlySet<string> | undefined): void {
    const live = (key: string, chain: string): boolean => next.services.get(key)?.chains.has(chain) ?? false;
    if (!changed) {
      const chains = new Set<string>();
      for (const part of next.services.values()) for (const c of part.chains.keys()) chains.add(c);
      this.#ids.retain((c) => chains.has(c));
      return;
    }
    for (const key of changed) {
      const old = prev?.services.get(key);
      if (old) this.#ids.retain((c) => live(key, c), old.chains.keys());
    }
  }

  *#allSlices(): Iterable<EndpointSlice> {
    for (const list of this.#slices.values()) yield* list;
  }
}
