// The audit webhook backend (k8s.io/apiserver plugin/pkg/audit/webhook): each batch is POSTed as an
// audit.k8s.io/v1 EventList in JSON to the server a kubeconfig names (--audit-webhook-config-file),
// with the kubeconfig's CA, client certificate or token. Every failure is retried (kube's
// retryOnError: an audit sink that comes back should get its events), with util/webhook's backoff:
// --audit-webhook-initial-backoff, factor 1.5, jitter 0.2, five attempts in all. Used behind
// BufferedAuditBackend (batch mode); send() may run for several batches at once.

import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Clock } from '../../util/clock.ts';
import type { AuditEvent } from './event.ts';
import type { BatchDelegate } from './buffered.ts';
import { encodeEvent } from './writer.ts';

/** Where the webhook is and how to reach it: the current context of the kubeconfig. */
export interface WebhookTarget {
  server: string;
  caPem?: string;
  certPem?: string;
  keyPem?: string;
  token?: string;
  insecureSkipTlsVerify?: boolean;
}

export interface WebhookOptions {
  target: WebhookTarget;
  clock: Clock;
  /** --audit-webhook-initial-backoff; kube's default 10 s. */
  initialBackoffMs?: number;
  /** Per attempt; kube's webhook client default, 30 s. */
  requestTimeoutMs?: number;
  /** In [0, 1); the backoff's jitter draws from it (tests pass a constant). */
  random?: () => number;
  log: (msg: string) => void;
}

export const DEFAULT_WEBHOOK_INITIAL_BACKOFF_MS = 10_000;
const ATTEMPTS = 5;
const FACTOR = 1.5;
const JITTER = 0.2;
const REQUEST_TIMEOUT_MS = 30_000;

/** A non-2xx answer or a transport failure of one attempt. */
export class AuditWebhookError extends Error {
  readonly code = 'ERR_AUDIT_WEBHOOK';
}

/** The body kube's webhook backend posts: an EventList, each item as the log backend encodes it. */
export function encodeEventList(events: readonly AuditEvent[]): string {
  return `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[${events.map((e) => encodeEvent(e).trimEnd()).join(',')}]}`;
}

/** The delays between attempts (wait.Backoff{Duration, Factor: 1.5, Jitter: 0.2, Steps: 5}). */
export function backoffDelays(initialMs: number, random: () => number): number[] {
  const out: number[] = [];
  let d = initialMs;
  for (let i = 1; i < ATTEMPTS; i++) {
    out.push(d + random() * JITTER * d);
    d *= FACTOR;
  }
  return out;
}

export class WebhookAuditBackend implements BatchDelegate {
  readonly name = 'webhook';
  readonly #opts: WebhookOptions;
  readonly #url: URL;

  constructor(opts: WebhookOptions) {
    this.#opts = opts;
    this.#url = new URL(opts.target.server);
    if (this.#url.protocol !== 'https:' && this.#url.protocol !== 'http:') throw new AuditWebhookError(`unsupported scheme in server ${JSON.stringify(opts.target.server)}`);
  }

  async send(events: AuditEvent[], signal: AbortSignal): Promise<boolean> {
    const body = encodeEventList(events);
    const delays = backoffDelays(this.#opts.initialBackoffMs ?? DEFAULT_WEBHOOK_INITIAL_BACKOFF_MS, this.#opts.random ?? Math.random);
    let lastErr: Error | undefined;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      try {
        await this.#post(body);
        return true;
      } catch (err) {
        lastErr = err instanceof Error ? err : new Error(String(err));
      }
      if (attempt === ATTEMPTS - 1 || signal.aborted) break;
      try {
        await this.#opts.clock.sleep(delays[attempt]!, signal);
      } catch {
        break;
      }
    }
    this.#opts.log(`Error in audit plugin 'webhook' affecting ${events.length} audit events: ${lastErr?.message ?? 'not sent'}`);
    return false;
  }

  /** One attempt; a post under way at shutdown is let finish (its timeout bounds it). */
  #post(body: string): Promise<void> {
    const t = this.#opts.target;
    const headers: Record<string, string | number> = { 'Content-Type': 'application/json', Accept: 'application/json', 'Content-Length': Buffer.byteLength(body), 'User-Agent': 'tinykube-apiserver/audit-webhook' };
    if (t.token) headers.Authorization = `Bearer ${t.token}`;
    const https = this.#url.protocol === 'https:';
    const options = {
      method: 'POST',
      headers,
      timeout: this.#opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
      ...(https ? { ca: t.caPem, cert: t.certPem, key: t.keyPem, rejectUnauthorized: !t.insecureSkipTlsVerify } : {}),
    };
    return new Promise<void>((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(this.#url, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const code = res.statusCode ?? 0;
          if (code >= 200 && code < 300) return resolve();
          const text = Buffer.concat(chunks).toString('utf8').slice(0, 200);
          reject(new AuditWebhookError(`the server responded with the status code ${code}${text ? `: ${text}` : ''}`));
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new AuditWebhookError(`Post "${this.#url.href}": timeout awaiting response headers`)));
      req.on('error', (err) => reject(err instanceof AuditWebhookError ? err : new AuditWebhookError(`Post "${this.#url.href}": ${err.message}`)));
      req.end(body);
    });
  }
}
