// Certificates obtained through CertificateSigningRequests, as client-go's certificate manager
// (k8s.io/client-go/util/certificate) does it for the kubelet: make a key and a PKCS#10 request,
// create the CSR, wait for the signer's certificate (or the Denied/Failed condition), keep key and
// certificate in one 0600 PEM file, and rotate before expiry — at a jittered 70-90% of the
// certificate's lifetime — with a new request made by the current identity.
//
// Called by the node agent (src/cmd/agent.ts). requestCertificate may be called concurrently; one
// CertificateRotator per file.

import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CertificateSigningRequest } from '../api/certificates/csr.ts';
import { createCsr } from '../api/certificates/request.ts';
import type { Clock, Timer } from '../util/clock.ts';
import { realClock } from '../util/clock.ts';
import type { ApiClient } from './client.ts';
import { CertificateSigningRequests } from './resources.ts';

export class CertificateRequestError extends Error {
  readonly code = 'ERR_CERTIFICATE_REQUEST';
  /** The Denied or Failed condition that ended the request, when one did. */
  readonly condition: { type: string; reason?: string; message?: string } | undefined;
  constructor(message: string, condition?: { type: string; reason?: string; message?: string }) {
    super(message);
    this.name = 'CertificateRequestError';
    this.condition = condition;
  }
}

/** A private key and the certificate issued for it, both PEM. */
export interface KeyPair {
  certPem: string;
  keyPem: string;
}

export interface CertificateRequest {
  signerName: string;
  commonName: string;
  organizations?: string[];
  /** SANs: IP literals become IP SANs, the rest DNS names. */
  hosts?: string[];
  usages: string[];
  /** spec.expirationSeconds (the signer may issue less; default: the signer's). */
  expirationSeconds?: number;
  /** A PKCS#9 challengePassword for the request (a joining node's password, see bootstrap.ts). */
  challengePassword?: string;
}

/**
 * Creates a CSR for a fresh key and waits until it is issued. Throws CertificateRequestError when it
 * is denied or fails, or when `timeoutMs` (default 15 minutes, client-go's wait) passes.
 */
export async function requestCertificate(client: ApiClient, want: CertificateRequest, options: { clock?: Clock; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<KeyPair> {
  const clock = options.clock ?? realClock;
  const { csrPem, keyPem } = await createCsr({ commonName: want.commonName, organizations: want.organizations }, want.hosts ?? [], { challengePassword: want.challengePassword });
  const created = await client.create<CertificateSigningRequest>(CertificateSigningRequests, undefined, {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { generateName: 'csr-' },
    spec: {
      request: Buffer.from(csrPem).toString('base64'),
      signerName: want.signerName,
      usages: want.usages,
      ...(want.expirationSeconds !== undefined ? { expirationSeconds: want.expirationSeconds } : {}),
    },
  });
  const name = created.metadata!.name!;
  const abort = new AbortController();
  const timeoutMs = options.timeoutMs ?? 15 * 60 * 1000;
  const timer = clock.setTimeout(() => abort.abort(), timeoutMs);
  const onAbort = () => abort.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    let current: CertificateSigningRequest = created;
    let rv = created.metadata?.resourceVersion;
    // A watch ends when the server closes it: start again from the last version seen.
    while (!abort.signal.aborted) {
      const outcome = issued(current);
      if (outcome) return { certPem: outcome, keyPem };
      const watch = await client.watch<CertificateSigningRequest>(CertificateSigningRequests, undefined, { fieldSelector: `metadata.name=${name}`, resourceVersion: rv, signal: abort.signal });
      for await (const ev of watch) {
        if (ev.type === 'DELETED') throw new CertificateRequestError(`certificate signing request ${name} was deleted`);
        if (ev.type !== 'ADDED' && ev.type !== 'MODIFIED') continue;
        current = ev.object;
        rv = current.metadata?.resourceVersion;
        const pem = issued(current);
        if (pem) return { certPem: pem, keyPem };
      }
    }
    throw new CertificateRequestError(`timed out waiting for certificate signing request ${name} to be issued`);
  } finally {
    timer.cancel();
    options.signal?.removeEventListener('abort', onAbort);
    abort.abort();
  }
}

/** The issued certificate's PEM; throws for a denied or failed request; undefined while pending. */
function issued(csr: CertificateSigningRequest): string | undefined {
  for (const c of csr.status?.conditions ?? []) {
    if ((c.type === 'Denied' || c.type === 'Failed') && c.status === 'True') {
      throw new CertificateRequestError(`certificate signing request ${csr.metadata?.name} is ${c.type.toLowerCase()}: ${c.reason ?? ''}${c.message ? `: ${c.message}` : ''}`, { type: c.type, reason: c.reason, message: c.message });
    }
  }
  return csr.status?.certificate ? Buffer.from(csr.status.certificate, 'base64').toString() : undefined;
}

/**
 * A key pair from its file (certificate then key, as kubelet's `*-current.pem`) if it still serves:
 * signed by `caPem`, valid now, for `commonName`, and naming every one of `hosts`.
 */
export async function loadKeyPair(file: string, want: { caPem: string; commonName: string; hosts?: string[]; now: number }): Promise<KeyPair | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const cert = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n?/.exec(text)?.[0];
  const key = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----\n?/.exec(text)?.[0];
  if (!cert || !key) return undefined;
  try {
    const x = new X509Certificate(cert);
    const ca = new X509Certificate(want.caPem);
    if (!x.checkIssued(ca) || !x.verify(ca.publicKey)) return undefined;
    if (Date.parse(x.validTo) <= want.now || Date.parse(x.validFrom) > want.now + 5 * 60 * 1000) return undefined;
    if (!new RegExp(`(^|\\n|, ?)CN=${escapeRe(want.commonName)}($|\\n|,)`).test(x.subject)) return undefined;
    for (const h of want.hosts ?? []) if (!x.checkHost(h, { subject: 'never', wildcards: false }) && !x.checkIP(h)) return undefined;
    if (!x.checkPrivateKey(createPrivateKey(key))) return undefined;
  } catch {
    return undefined;
  }
  return { certPem: cert.endsWith('\n') ? cert : cert + '\n', keyPem: key.endsWith('\n') ? key : key + '\n' };
}

/** Writes certificate and key to one file, 0600, atomically (a crash never leaves half a key). */
export async function saveKeyPair(file: string, pair: KeyPair): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, pair.certPem + pair.keyPem, { mode: 0o600 });
  await rename(tmp, file);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** client-go's nextRotationDeadline: notBefore + lifetime × (0.7 + 0.2 × jitter), jitter in [0, 1). */
export function rotationDeadline(certPem: string, jitter: number): number {
  const x = new X509Certificate(certPem);
  const from = Date.parse(x.validFrom);
  const to = Date.parse(x.validTo);
  return from + (to - from) * (0.7 + 0.2 * jitter);
}

export interface CertificateRotatorOptions {
  file: string;
  /** Obtains a new pair (a CSR made by the current identity). */
  request: () => Promise<KeyPair>;
  /** Called with each new pair once it is on disk (the client starts using it). */
  onRotate: (pair: KeyPair) => void;
  clock?: Clock;
  /** Jitter source in [0, 1) (default Math.random). */
  random?: () => number;
  /** A failed renewal is retried after this long, doubling up to 5 minutes (default 1 s). */
  retryMs?: number;
  onError?: (err: unknown) => void;
}

/** Renews one certificate before it expires, for as long as it runs. */
export class CertificateRotator {
  readonly #o: CertificateRotatorOptions;
  readonly #clock: Clock;
  #timer: Timer | undefined;
  #current: KeyPair | undefined;
  #stopped = false;
  #running: Promise<void> | undefined;
  #retryMs: number;

  constructor(o: CertificateRotatorOptions) {
    this.#o = o;
    this.#clock = o.clock ?? realClock;
    this.#retryMs = o.retryMs ?? 1000;
  }

  /** Starts with the pair in use; rotates at once when its deadline has passed (a restart close to expiry). */
  start(current: KeyPair): void {
    this.#current = current;
    this.#schedule(rotationDeadline(current.certPem, (this.#o.random ?? Math.random)()) - this.#clock.now());
  }

  /** The pair in use. */
  get current(): KeyPair | undefined {
    return this.#current;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    await this.#running;
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer?.cancel();
    this.#timer = this.#clock.setTimeout(() => {
      this.#running = this.#rotate();
    }, Math.max(0, ms));
  }

  async #rotate(): Promise<void> {
    try {
      const pair = await this.#o.request();
      if (this.#stopped) return;
      await saveKeyPair(this.#o.file, pair);
      this.#current = pair;
      this.#o.onRotate(pair);
      this.#retryMs = this.#o.retryMs ?? 1000;
      this.#schedule(rotationDeadline(pair.certPem, (this.#o.random ?? Math.random)()) - this.#clock.now());
    } catch (err) {
      if (this.#stopped) return;
      (this.#o.onError ?? ((e) => console.error(`tinykube: certificate rotation: ${e instanceof Error ? e.message : String(e)}`)))(err);
      // The old certificate still works until it expires: try again, backing off.
      this.#schedule(this.#retryMs);
      this.#retryMs = Math.min(this.#retryMs * 2, 5 * 60 * 1000);
    }
  }
}
