// The tokens controller (kube-controller-manager's "serviceaccount-token"): a Secret of type
// kubernetes.io/service-account-token that names a service account (annotation
// kubernetes.io/service-account.name) is filled in with a legacy token for that account, the cluster
// CA and the namespace, and marked with the account's uid; a token Secret whose account is gone
// (or was recreated: another uid) is deleted, as are an account's token Secrets when it is deleted.
// Tokens are made only when a user asks for such a Secret; pods get bound tokens (TokenRequest).

import type { Secret, ServiceAccount } from '../../api/types.ts';
import type { ApiClient } from '../../client/client.ts';
import { isNotFound } from '../../client/errors.ts';
import { Secrets, ServiceAccounts } from '../../client/resources.ts';
import type { HasMetadata } from '../../client/client.ts';
import type { Clock } from '../../util/clock.ts';
import type { SharedInformers } from '../informers.ts';
import { KeyLoop } from '../keyloop.ts';

export const SERVICE_ACCOUNT_TOKEN_TYPE = 'kubernetes.io/service-account-token';
export const SA_NAME_ANNOTATION = 'kubernetes.io/service-account.name';
export const SA_UID_ANNOTATION = 'kubernetes.io/service-account.uid';

/** Signs a legacy token for the Secret `secretName` of the account (the API server's key). */
export type LegacyTokenSigner = (namespace: string, account: { name: string; uid: string }, secretName: string) => Promise<string>;

export interface TokensControllerOptions {
  client: ApiClient;
  informers: SharedInformers;
  sign: LegacyTokenSigner;
  /** The cluster CA certificate, PEM (the Secret's ca.crt). */
  rootCA: string;
  clock?: Clock;
  workers?: number;
  onError?: (err: unknown) => void;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

export class TokensController {
  readonly #client: ApiClient;
  readonly #informers: SharedInformers;
  readonly #sign: LegacyTokenSigner;
  readonly #rootCA: string;
  readonly #loop: KeyLoop;

  constructor(o: TokensControllerOptions) {
    this.#client = o.client;
    this.#informers = o.informers;
    this.#sign = o.sign;
    this.#rootCA = o.rootCA;
    this.#loop = new KeyLoop({ clock: o.clock, workers: o.workers, onError: o.onError ?? ((err) => console.error(`tinykube: serviceaccount-token: ${(err as Error).message}`)) });
  }

  #secrets() {
    return this.#informers.resource<Secret & HasMetadata>(Secrets);
  }

  start(): void {
    const q = this.#loop.queue;
    const secretChanged = (s: Secret) => {
      if (s.type === SERVICE_ACCOUNT_TOKEN_TYPE) q.add(`${s.metadata!.namespace}/${s.metadata!.name}`);
    };
    // An account's change or deletion is looked at through its token Secrets.
    const accountChanged = (sa: ServiceAccount) => {
      for (const s of this.#secrets().store.list()) {
        if (s.type === SERVICE_ACCOUNT_TOKEN_TYPE && s.metadata?.namespace === sa.metadata?.namespace && s.metadata?.annotations?.[SA_NAME_ANNOTATION] === sa.metadata?.name) secretChanged(s);
      }
    };
    this.#loop.start(this.#informers, () => [
      this.#secrets().addEventHandler({ onAdd: secretChanged, onUpdate: (_o, s) => secretChanged(s) }),
      this.#informers.serviceAccounts().addEventHandler({ onAdd: accountChanged, onUpdate: (_o, sa) => accountChanged(sa), onDelete: accountChanged }),
    ], (key) => this.sync(key));
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  async sync(key: string): Promise<void> {
    const [namespace, name] = key.split('/') as [string, string];
    const secret = this.#secrets().store.get(namespace, name);
    if (!secret || secret.type !== SERVICE_ACCOUNT_TOKEN_TYPE || secret.metadata?.deletionTimestamp) return;
    const annotations = secret.metadata?.annotations ?? {};
    const accountName = annotations[SA_NAME_ANNOTATION] ?? '';
    const wantUid = annotations[SA_UID_ANNOTATION];
    const matches = (sa: ServiceAccount | undefined): sa is ServiceAccount => !!sa && (!wantUid || wantUid === sa.metadata?.uid);
    let account: ServiceAccount | undefined = this.#informers.serviceAccounts().store.get(namespace, accountName);
    // The informer may lag behind a just-created account: ask the server before deleting.
    if (!matches(account)) account = await this.#client.get<ServiceAccount>(ServiceAccounts, namespace, accountName).catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)));
    if (!matches(account)) {
      await this.#client.delete(Secrets, namespace, name, { preconditions: { uid: secret.metadata!.uid! } }).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
      return;
    }
    const data = secret.data ?? {};
    const uid = account.metadata!.uid!;
    if (data.token && data['ca.crt'] === b64(this.#rootCA) && data.namespace === b64(namespace) && wantUid === uid) return;
    const token = data.token ? Buffer.from(data.token, 'base64').toString() : await this.#sign(namespace, { name: accountName, uid }, name);
    await this.#client.update<Secret>(Secrets, namespace, {
      ...secret,
      metadata: { ...secret.metadata, annotations: { ...annotations, [SA_UID_ANNOTATION]: uid } },
      data: { ...data, token: b64(token), 'ca.crt': b64(this.#rootCA), namespace: b64(namespace) },
    });
  }
}
