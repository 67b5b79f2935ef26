// The batch mode of an audit backend (k8s.io/apiserver plugin/pkg/audit/buffered): events are copied
// into a bounded buffer and handed to the delegate in batches, off the request's path, so a slow or
// dead delegate (a webhook) never slows or fails a request. A batch goes out when it holds
// --audit-*-batch-max-size events or when its first event has waited --audit-*-batch-max-wait; batches
// are sent concurrently, their starts paced by an optional token bucket (--audit-*-batch-throttle-*),
// which holds the next batch in the buffer.
// A full buffer drops events rather than blocking the request.
//
// processEvent is called by the API server once per recorded stage, from one thread; close() once at
// shutdown.

import type { Clock, Timer } from '../../util/clock.ts';
import type { AuditEvent, AuditSink } from './event.ts';

/** What a batch goes to. send() may be called again before an earlier batch is done. */
export interface BatchDelegate {
  /** The plugin's name in error messages ("log", "webhook"). */
  readonly name: string;
  /**
   * Delivers one batch (copies, owned by the delegate); resolves false when the events are lost (the
   * delegate has said why). `signal` aborts retries at shutdown.
   */
  send(events: AuditEvent[], signal: AbortSignal): Promise<boolean>;
  close?(): void;
}

export interface BatchConfig {
  bufferSize: number;
  maxBatchSize: number;
  maxBatchWaitMs: number;
  /** Batches started per second and burst; absent = no throttling. */
  throttle?: { qps: number; burst: number };
}

/** kube's defaults: the webhook's NewDefaultBatchConfig, and the log's (single events, no throttle). */
export const DEFAULT_WEBHOOK_BATCH: Required<BatchConfig> = { bufferSize: 10_000, maxBatchSize: 400, maxBatchWaitMs: 30_000, throttle: { qps: 10, burst: 15 } };
export const DEFAULT_LOG_BATCH: BatchConfig = { bufferSize: 10_000, maxBatchSize: 1, maxBatchWaitMs: 30_000 };

/**
 * A token bucket (client-go's NewTokenBucketRateLimiter): `burst` tokens at first, refilled at `qps`
 * per second. take() resolves when a token is had.
 */
export class TokenBucket {
  readonly #qps: number;
  readonly #burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #last: number;
  constructor(qps: number, burst: number, clock: Clock) {
    this.#qps = qps;
    this.#burst = burst;
    this.#clock = clock;
    this.#tokens = burst;
    this.#last = clock.now();
  }

  /** Reserves a token now (the balance may go negative) and waits until it is due. */
  async take(signal?: AbortSignal): Promise<void> {
    const now = this.#clock.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) / 1000) * this.#qps);
    this.#last = now;
    this.#tokens -= 1;
    if (this.#tokens >= 0) return;
    await this.#clock.sleep(Math.ceil((-this.#tokens / this.#qps) * 1000), signal);
  }
}

export class BufferedAuditBackend implements AuditSink {
  readonly #delegate: BatchDelegate;
  readonly #config: BatchConfig;
  readonly #clock: Clock;
  readonly #log: (msg: string) => void;
  readonly #throttle: TokenBucket | undefined;
  readonly #abort = new AbortController();
  readonly #inFlight = new Set<Promise<void>>();
  #buffer: AuditEvent[] = [];
  #timer: Timer | undefined;
  /** The oldest buffered event has waited max-wait: a partial batch may go. */
  #due = false;
  #kicked = false;
  #pumping = false;
  #closed = false;
  /** Events dropped since the buffer last filled up; reported once when it fills and once when it drains. */
  #dropped = 0;

  constructor(delegate: BatchDelegate, config: BatchConfig, clock: Clock, log: (msg: string) => void) {
    this.#delegate = delegate;
    this.#config = config;
    this.#clock = clock;
    this.#log = log;
    this.#throttle = config.throttle ? new TokenBucket(config.throttle.qps, config.throttle.burst, clock) : undefined;
  }

  /**
   * Copies the event into the buffer (the caller reuses it for the next stage). Always true: batch
   * mode never fails a request, as kube's buffered backend.
   */
  processEvent(ev: AuditEvent): boolean {
    if (this.#closed) return true;
    if (this.#buffer.length >= this.#config.bufferSize) {
      // kube logs every refused event; one line per episode keeps a dead webhook from flooding the log.
      if (this.#dropped++ === 0) {
        this.#log(`Error in audit plugin 'buffered' affecting 1 audit events: audit buffer queue blocked (${this.#delegate.name} backend; further events are dropped until the buffer drains)`);
      }
      return true;
    }
    this.#buffer.push(structuredClone(ev));
    if (this.#buffer.length >= this.#config.maxBatchSize) this.#kick();
    else this.#timer ??= this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#due = true;
      this.#kick();
    }, this.#config.maxBatchWaitMs);
    return true;
  }

  /** Events waiting in the buffer (for tests and shutdown). */
  get buffered(): number {
    return this.#buffer.length;
  }

  /**
   * Sends what is buffered and waits for the batches in flight; throttling and retries still waiting
   * are cut short (a dead webhook must not hold the shutdown for minutes).
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#abort.abort(new Error('audit backend shut down'));
    while (this.#buffer.length) this.#send(this.#buffer.splice(0, this.#config.maxBatchSize));
    await Promise.all([...this.#inFlight]);
    this.#delegate.close?.();
  }

  /** Starts the pump after the current request's synchronous work, so its stages can share a batch. */
  #kick(): void {
    if (this.#kicked || this.#pumping) return;
    this.#kicked = true;
    queueMicrotask(() => {
      this.#kicked = false;
      void this.#pump();
    });
  }

  /**
   * kube's collect loop: one batch at a time leaves the buffer, each after a throttle token, so a
   * throttled or slow delegate lets the (bounded) buffer fill rather than piling batches up.
   */
  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      for (;;) {
        if (this.#closed) return;
        const ready = this.#buffer.length >= this.#config.maxBatchSize || (this.#due && this.#buffer.length > 0);
        if (!ready) break;
        if (this.#throttle) await this.#throttle.take(this.#abort.signal).catch(() => undefined);
        if (this.#closed) return;
        this.#send(this.#buffer.splice(0, this.#config.maxBatchSize));
        if (this.#buffer.length === 0) this.#due = false;
      }
      if (this.#buffer.length) {
        this.#timer ??= this.#clock.setTimeout(() => {
          this.#timer = undefined;
          this.#due = true;
          this.#kick();
        }, this.#config.maxBatchWaitMs);
      }
    } finally {
      this.#pumping = false;
    }
  }

  #send(events: AuditEvent[]): void {
    if (this.#dropped > 0 && this.#buffer.length < this.#config.bufferSize) {
      this.#log(`audit buffer of the ${this.#delegate.name} backend has room again; ${this.#dropped} audit events were dropped while it was full`);
      this.#dropped = 0;
    }
    const p = (async () => {
      try {
        await this.#delegate.send(events, this.#abort.signal);
      } catch (err) {
        this.#log(`Error in audit plugin '${this.#delegate.name}' affecting ${events.length} audit events: ${err instanceof Error ? err.message : String(err)}`);
      }
    })();
    this.#inFlight.add(p);
    void p.finally(() => this.#inFlight.delete(p));
  }
}
