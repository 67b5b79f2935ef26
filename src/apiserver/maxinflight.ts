// kube-apiserver's max-in-flight filter (--max-requests-inflight, --max-mutating-requests-inflight):
// at most N read-only and M mutating requests are served at once; one more is answered 429 with
// `Retry-After: 1`, unless its user is in system:masters (always answered, as the filter lets the
// super-user through). Long-running requests (watches, proxy, exec/attach/port-forward, logs) are
// not counted. 0 = no limit of that kind.
//
// Called by the API server for every request after authentication and impersonation, before
// authorization; one limiter per server, used from one thread.

import type { IncomingMessage, ServerResponse } from 'node:http';

export interface InFlightLimits {
  /** Read-only requests at once (kube's default 400); 0 = unlimited. */
  maxRequestsInFlight: number;
  /** Mutating requests at once (kube's default 200); 0 = unlimited. */
  maxMutatingRequestsInFlight: number;
}

export const DEFAULT_IN_FLIGHT_LIMITS: InFlightLimits = { maxRequestsInFlight: 400, maxMutatingRequestsInFlight: 200 };

/** The request as the filter reads it (kube's RequestInfo). */
export interface InFlightRequest {
  verb: string;
  isResourceRequest: boolean;
  subresource: string;
  path: string;
  groups: readonly string[];
}

const NON_MUTATING_VERBS = new Set(['get', 'list', 'watch']);
const LONG_RUNNING_VERBS = new Set(['watch', 'proxy']);
const LONG_RUNNING_SUBRESOURCES = new Set(['attach', 'exec', 'proxy', 'log', 'portforward']);

/** kube-apiserver's BasicLongRunningRequestCheck with its verbs and subresources. */
export function isLongRunning(r: Pick<InFlightRequest, 'verb' | 'isResourceRequest' | 'subresource' | 'path'>): boolean {
  if (LONG_RUNNING_VERBS.has(r.verb)) return true;
  if (r.isResourceRequest && LONG_RUNNING_SUBRESOURCES.has(r.subresource)) return true;
  return !r.isResourceRequest && r.path.startsWith('/debug/pprof/');
}

/** What admit() decides: served (call release when done), or refused with 429. */
export type InFlightDecision = { admitted: true; release: () => void } | { admitted: false };

const NOTHING = () => {};

export class InFlightLimiter {
  readonly #limits: InFlightLimits;
  #readOnly = 0;
  #mutating = 0;

  constructor(limits: InFlightLimits) {
    this.#limits = limits;
  }

  /** Counts the request in, or refuses it when its kind is at the limit. `release` is idempotent. */
  admit(r: InFlightRequest): InFlightDecision {
    if (isLongRunning(r)) return { admitted: true, release: NOTHING };
    const mutating = !NON_MUTATING_VERBS.has(r.verb);
    const limit = mutating ? this.#limits.maxMutatingRequestsInFlight : this.#limits.maxRequestsInFlight;
    if (limit <= 0) return { admitted: true, release: NOTHING };
    const current = mutating ? this.#mutating : this.#readOnly;
    if (current >= limit) {
      // Not counted: the super-user is served beyond the limit, as kube's filter does.
      if (r.groups.includes('system:masters')) return { admitted: true, release: NOTHING };
      return { admitted: false };
    }
    if (mutating) this.#mutating++;
    else this.#readOnly++;
    let released = false;
    return {
      admitted: true,
      release: () => {
        if (released) return;
        released = true;
        if (mutating) this.#mutating--;
        else this.#readOnly--;
      },
    };
  }

  /** Requests counted now (for tests and metrics). */
  inFlight(): { readOnly: number; mutating: number } {
    return { readOnly: this.#readOnly, mutating: this.#mutating };
  }
}

/**
 * The 429 kube's filter writes: net/http's http.Error, a plain-text body (not a Status), with
 * `Retry-After: 1`. Clients (client-go, kubectl) retry after that many seconds.
 */
export function writeTooManyRequests(_req: IncomingMessage, res: ServerResponse): void {
  const body = 'Too many requests, please try again later.\n';
  res.writeHead(429, { 'Retry-After': '1', 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
