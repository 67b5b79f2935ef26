// Joining a cluster with only a server URL and the node token, as `tinykube agent --server URL --token T`
// does. The token is `K10<sha256 of the CA certificate's DER>::node:<secret>` (k3s' format; minted by
// src/apiserver/auth/pki.ts, parsed here again because the client must not depend on the server). The
// API server sends the CA in its certificate chain, so the agent reads the chain over a connection it
// does not yet verify, keeps the certificate whose hash the token names, checks that it signed the
// server's certificate, and from then on verifies the server normally against that CA.
//
// Called by: the node agent at start, once. Idempotent, read-only.

import { X509Certificate, createHash } from 'node:crypto';
import type { DetailedPeerCertificate } from 'node:tls';
import tls from 'node:tls';
import { ClientConfigError } from './errors.ts';

export class CaPinError extends Error {
  readonly code = 'ERR_CA_PIN';
  constructor(message: string) {
    super(message);
    this.name = 'CaPinError';
  }
}

/** The CA hash a `K10…` token pins, or undefined for an opaque token (then the CA must be given). */
export function caHashFromToken(token: string): string | undefined {
  const m = /^K10([0-9a-f]{64})::/.exec(token);
  return m ? m[1] : undefined;
}

/** Fetches the cluster CA from `server` (https URL) and returns it as PEM, if it matches `caHash`. */
export async function fetchPinnedCa(server: string, caHash: string, options: { timeoutMs?: number } = {}): Promise<string> {
  const url = new URL(server);
  if (url.protocol !== 'https:') throw new ClientConfigError('joining needs an https server URL');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(url.port || 443);
  const chain = await new Promise<DetailedPeerCertificate>((resolve, reject) => {
    // Verification is deliberately off here: the pin below replaces it for this one connection, which
    // sends nothing but the TLS handshake.
    const socket = tls.connect({ host, port, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'], servername: isIpLiteral(host) ? undefined : host });
    socket.setTimeout(options.timeoutMs ?? 10_000, () => socket.destroy(new CaPinError(`timed out connecting to ${server}`)));
    socket.once('secureConnect', () => {
      const peer = socket.getPeerCertificate(true);
      socket.end();
      resolve(peer);
    });
    socket.once('error', reject);
  });
  const certs: DetailedPeerCertificate[] = [];
  const seen = new Set<string>();
  for (let c: DetailedPeerCertificate | undefined = chain; c?.raw && !seen.has(c.fingerprint256); c = c.issuerCertificate) {
    seen.add(c.fingerprint256);
    certs.push(c);
  }
  if (certs.length === 0) throw new CaPinError(`${server} presented no certificate`);
  const ca = certs.find((c) => createHash('sha256').update(c.raw).digest('hex') === caHash);
  if (!ca) throw new CaPinError(`${server} did not present the CA the token names (hash ${caHash.slice(0, 12)}…)`);
  const caCert = new X509Certificate(ca.raw);
  const leaf = new X509Certificate(certs[0].raw);
  if (leaf.fingerprint256 !== caCert.fingerprint256 && !(leaf.checkIssued(caCert) && leaf.verify(caCert.publicKey))) {
    throw new CaPinError(`${server}'s certificate is not signed by the pinned CA`);
  }
  return caCert.toString();
}

function isIpLiteral(host: string): boolean {
  return /^[0-9.]+$/.test(host) || host.includes(':');
}
