// Per-controller credentials, as kube-controller-manager's --use-service-account-credentials: each
// controller talks to the API server as system:serviceaccount:kube-system:<its account>, so RBAC's
// system:controller:<account> roles decide what it may do. The controller manager's own (root) client
// only makes the accounts and asks for their tokens; shared informers stay on it, as kube's do.
//
// Built by startControllers; clientFor() may be called any number of times per account (one source
// and one client each); stop() cancels every renewal and is idempotent.

import type { ApiClient } from '../client/client.ts';
import { isAlreadyExists, isNotFound } from '../client/errors.ts';
import { ServiceAccounts } from '../client/resources.ts';
import type { TokenSource } from '../client/tokensource.ts';
import type { Clock, Timer } from '../util/clock.ts';

/** kube's controller tokens: an hour each (client-go's DynamicControllerClientBuilder). */
export const CONTROLLER_TOKEN_SECONDS = 3600;
/** Renewed when this share of the token's life has passed (client-go's 20% leeway). */
const RENEW_AT = 0.8;
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 60_000;
export const CONTROLLER_NAMESPACE = 'kube-system';

/** Gives each controller its client (the root client itself when accounts are off). */
export interface ControllerClients {
  clientFor(account: string): ApiClient;
  stop(): void;
}

/** Every controller on the root client (tests, and kube's default without the flag). */
export function rootClients(root: ApiClient): ControllerClients {
  return { clientFor: () => root, stop() {} };
}

export interface ServiceAccountClientsOptions {
  root: ApiClient;
  clock: Clock;
  /** Token lifetime asked for (default 3600 s; the server may shorten it). */
  expirationSeconds?: number;
  onError: (err: unknown) => void;
}

/** One client per controller account, sharing the root client's connections. */
export class ServiceAccountClients implements ControllerClients {
  readonly #o: ServiceAccountClientsOptions;
  readonly #sources = new Map<string, ServiceAccountTokenSource>();
  readonly #clients = new Map<string, ApiClient>();
  #prefetching: Promise<void> = Promise.resolve();

  constructor(o: ServiceAccountClientsOptions) {
    this.#o = o;
  }

  clientFor(account: string): ApiClient {
    let client = this.#clients.get(account);
    if (client) return client;
    const source = new ServiceAccountTokenSource({ ...this.#o, namespace: CONTROLLER_NAMESPACE, name: account });
    this.#sources.set(account, source);
    client = this.#o.root.withTokenSource(source, `tinykube-controller-manager/${account}`);
    this.#clients.set(account, client);
    // Fetched now rather than at the first write, so a burst at start does not wait for it; one account
    // at a time, in the order the controllers start (the certificate controllers first). All at once,
    // their ~90 requests came exactly while the first nodes were joining (measured on `up --nodes 3`:
    // the node certificates' approval waited ~0.7 s behind them). A controller that writes before its
    // turn fetches its own token then.
    this.#prefetching = this.#prefetching.then(() => source.prefetch());
    return client;
  }

  /** The token source of an account (tests watch its renewals). */
  source(account: string): ServiceAccountTokenSource | undefined {
    return this.#sources.get(account);
  }

  stop(): void {
    for (const s of this.#sources.values()) s.stop();
  }
}

interface Issued {
  token: string;
  expiresAt: number;
}

/** What a token source asks of the root client. */
export type TokenRequester = Pick<ApiClient, 'create' | 'createSubresource'>;

export interface ServiceAccountTokenSourceOptions {
  root: TokenRequester;
  clock: Clock;
  namespace: string;
  name: string;
  expirationSeconds?: number;
  onError: (err: unknown) => void;
}

/**
 * A service account's token from TokenRequest: the account is made if missing, the token is renewed
 * at 80% of its life on the clock, and a failed fetch (API down) is retried with a doubling delay
 * (1 s to 60 s) while the old token, if still valid, keeps being used.
 */
export class ServiceAccountTokenSource implements TokenSource {
  readonly #o: ServiceAccountTokenSourceOptions;
  #issued: Issued | undefined;
  #inflight: Promise<Issued> | undefined;
  #timer: Timer | undefined;
  #failures = 0;
  #lastError = '';
  /** The last failure and when the next try is due: callers before then get it without a request. */
  #failed: { err: unknown; retryAt: number } | undefined;
  #stopped = false;
  /** A token was issued for the account: it existed then. */
  #accountSeen = false;
  /** Tokens issued so far (tests await renewals by it). */
  issuedCount = 0;

  constructor(o: ServiceAccountTokenSourceOptions) {
    this.#o = o;
  }

  token(): string | Promise<string> {
    const i = this.#issued;
    const now = this.#o.clock.now();
    if (i && now < i.expiresAt) return i.token;
    if (this.#failed && now < this.#failed.retryAt && !this.#inflight) return Promise.reject(this.#failed.err);
    return this.#fetch().then((f) => f.token);
  }

  /** Fetches the token unless one is there or on its way; resolves when done (a failure is retried and reported, not thrown). */
  prefetch(): Promise<void> {
    if (this.#stopped || this.#issued) return Promise.resolve();
    return this.#fetch().then(
      () => undefined,
      () => undefined,
    );
  }

  invalidate(token: string): void {
    if (this.#issued?.token !== token) return;
    this.#issued = undefined;
    this.#schedule(0);
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  /** One fetch at a time: concurrent callers share it. */
  #fetch(): Promise<Issued> {
    this.#inflight ??= this.#request().finally(() => (this.#inflight = undefined));
    return this.#inflight;
  }

  async #request(): Promise<Issued> {
    const { root, clock, namespace, name } = this.#o;
    const started = clock.now();
    try {
      const ask = () => root.createSubresource<unknown, { status?: { token?: string; expirationTimestamp?: string } }>(ServiceAccounts, namespace, name, 'token', {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds: this.#o.expirationSeconds ?? CONTROLLER_TOKEN_SECONDS },
      });
      // The first time, the account is made (or found made: AlreadyExists) before its token is asked
      // for: two requests on a new cluster rather than a lookup, a create and the token, when every
      // controller starts at once. Later, the token is asked for at once, and the account made again
      // only if it was deleted meanwhile.
      let out: Awaited<ReturnType<typeof ask>>;
      if (!this.#accountSeen) {
        await this.#makeAccount();
        out = await ask();
      } else {
        try {
          out = await ask();
        } catch (err) {
          if (!isNotFound(err)) throw err;
          await this.#makeAccount();
          out = await ask();
        }
      }
      this.#accountSeen = true;
      const token = out.status?.token;
      const expiresAt = Date.parse(out.status?.expirationTimestamp ?? '');
      if (!token || !Number.isFinite(expiresAt)) throw new Error(`the token request for ${namespace}/${name} returned no token`);
      const issued = { token, expiresAt };
      this.#issued = issued;
      this.issuedCount++;
      this.#failures = 0;
      this.#lastError = '';
      this.#failed = undefined;
      this.#schedule(Math.max(0, RENEW_AT * (expiresAt - started)));
      return issued;
    } catch (err) {
      this.#failures++;
      // A token still valid is kept; the next try comes sooner than its expiry.
      const delay = Math.min(RETRY_FIRST_MS * 2 ** (this.#failures - 1), RETRY_MAX_MS);
      this.#schedule(delay);
      this.#failed = { err, retryAt: clock.now() + delay };
      const message = `token for service account ${namespace}/${name}: ${err instanceof Error ? err.message : String(err)}`;
      // Said once per kind of failure, not once per retry.
      if (message !== this.#lastError) this.#o.onError(new Error(message, { cause: err }));
      this.#lastError = message;
      throw err;
    }
  }

  async #makeAccount(): Promise<void> {
    const { root, namespace, name } = this.#o;
    await root.create(ServiceAccounts, namespace, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } }).catch((e: unknown) => {
      if (!isAlreadyExists(e)) throw e;
    });
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer?.cancel();
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#fetch().catch(() => {});
    }, ms);
  }
}
