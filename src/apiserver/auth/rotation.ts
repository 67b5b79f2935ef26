// Renewal of the API server's leaf certificates while it runs.
//
// Called by: the control plane (src/cmd/controlplane.ts), which builds one CertificateRotator for its
// data dir after ensurePki and starts it. check() may be called at all times and concurrently: calls
// are serialised, and a call made while a check waits to run shares that check. Idempotent: a check
// that finds nothing to do changes nothing.
//
// Every check is ensurePki again (under the PKI lock): it re-reads the files, so certificates that
// `tinykube certs rotate` wrote are picked up, and re-issues a leaf with less than 90 days left. Checks
// run on a timer of the injected clock (hourly by default) and, so a `certs rotate` takes effect at
// once, whenever a file of the PKI directory changes (fs.watch; the timer covers a missed event).
// What changed is handed to onRenewed, which installs it (the listeners' secure context, the
// connect handler's client certificate, the admin kubeconfig).
//
// The CA is never replaced here: a CA that changed on disk under a running server is reported and
// ignored (the server keeps serving with what it has; a restart adopts it).

import { watch, type FSWatcher } from 'node:fs';
import type { Clock, Timer } from '../../util/clock.ts';
import { ensurePki, LEAF_NAMES, leafCertPem, needsRenewal, PkiError, type LeafName, type Pki } from './pki.ts';

export interface CertificateRotatorOptions {
  dataDir: string;
  /** The extra serving names the server was started with (ensurePki's hosts). */
  hosts: string[];
  clock: Clock;
  /** Time between checks (default 1 hour). */
  intervalMs?: number;
  /** Watch the PKI directory for certificates written by `tinykube certs rotate` (default true). */
  watchFiles?: boolean;
  /** Installs renewed certificates; `pki` already holds them. A throw is reported through onError. */
  onRenewed(pki: Pki, renewed: LeafName[]): void | Promise<void>;
  onError(err: unknown): void;
}

export type RenewalListener = (renewed: LeafName[]) => void;

/**
 * A certificate the server issued in memory from its CA (the scheduler's client certificate): not a
 * file, so `certs rotate` does not reach it, but renewed on every check by the same 90-day rule.
 */
export interface MemoryLeaf {
  readonly name: string;
  certPem(): string;
  /** Issues a certificate dated `now` and installs it; a rejection is reported and retried at the next check. */
  renew(now: number): Promise<void>;
}

const HOUR = 60 * 60 * 1000;

export class CertificateRotator {
  readonly #pki: Pki;
  readonly #opts: CertificateRotatorOptions;
  readonly #listeners = new Set<RenewalListener>();
  #timer: Timer | undefined;
  #watcher: FSWatcher | undefined;
  #tail: Promise<unknown> = Promise.resolve();
  #queued: Promise<LeafName[]> | undefined;
  #stopped = true;
  readonly #memory = new Set<MemoryLeaf>();

  /** `pki` is updated in place when certificates change, so every holder of it sees the current ones. */
  constructor(pki: Pki, opts: CertificateRotatorOptions) {
    this.#pki = pki;
    this.#opts = opts;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#arm();
    if (this.#opts.watchFiles !== false) {
      try {
        this.#watcher = watch(this.#pki.paths.pkiDir, (_event, file) => {
          if (file && (file.endsWith('.crt') || file.endsWith('.key'))) void this.check().catch(() => undefined);
        });
        this.#watcher.on('error', (err) => this.#opts.onError(err));
      } catch (err) {
        // Without a watch, rotated files are picked up by the next timer check.
        this.#opts.onError(err);
      }
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  /** Renews `leaf` at each check from now on (and at once if it is already due); returns its removal. */
  track(leaf: MemoryLeaf): () => void {
    this.#memory.add(leaf);
    return () => this.#memory.delete(leaf);
  }

  /** Called with the names of the leaves installed by each check that changed one. */
  onRenewed(listener: RenewalListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Re-reads the PKI, renews what is close to expiry, installs what changed; resolves to what changed. */
  check(): Promise<LeafName[]> {
    if (this.#queued) return this.#queued;
    const run = this.#tail.then(() => {
      this.#queued = undefined;
      return this.#run();
    });
    this.#queued = run;
    this.#tail = run.catch(() => undefined);
    return run;
  }

  // Re-armed as it fires, not when its check ends: the next check is always pending while running
  // (a slow check only coalesces with the next one), which also lets a fake clock move days at once.
  #arm(): void {
    if (this.#stopped) return;
    this.#timer = this.#opts.clock.setTimeout(() => {
      this.#arm();
      void this.check().catch((err: unknown) => this.#opts.onError(err));
    }, this.#opts.intervalMs ?? HOUR);
  }

  async #run(): Promise<LeafName[]> {
    if (this.#stopped) return [];
    const pki = this.#pki;
    const fresh = await ensurePki(this.#opts.dataDir, { hosts: this.#opts.hosts, now: () => this.#opts.clock.now(), createCa: false });
    if (this.#stopped) return [];
    if (fresh.caCertPem !== pki.caCertPem) {
      throw new PkiError(`the cluster CA in ${pki.paths.pkiDir} changed under the running server: it keeps the CA it started with until it is restarted (every node must then re-join with the new node token)`);
    }
    await this.#renewMemoryLeaves();
    const renewed = LEAF_NAMES.filter((name) => leafCertPem(fresh, name) !== leafCertPem(pki, name));
    if (renewed.length === 0) return [];
    Object.assign(pki, { ...fresh, paths: pki.paths });
    await this.#opts.onRenewed(pki, renewed);
    for (const l of this.#listeners) l(renewed);
    return renewed;
  }

  async #renewMemoryLeaves(): Promise<void> {
    const now = this.#opts.clock.now();
    for (const leaf of this.#memory) {
      if (this.#stopped || !needsRenewal(leaf.certPem(), now)) continue;
      try {
        await leaf.renew(now);
      } catch (err) {
        this.#opts.onError(new Error(`renewing the ${leaf.name} certificate: ${err instanceof Error ? err.message : String(err)}`, { cause: err }));
      }
    }
  }
}
