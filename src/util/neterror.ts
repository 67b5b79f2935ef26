// Go's net and crypto/tls wording for Node's socket errors, so a failure to reach a backend reads as
// kube-apiserver's does ("dial tcp 10.0.0.1:10250: connect: connection refused") rather than as
// Node's ("connect ECONNREFUSED 10.0.0.1:10250"). Pure; safe to call concurrently.

interface ErrnoLike {
  code?: unknown;
  message?: unknown;
  hostname?: unknown;
  reason?: unknown;
}

// syscall.Errno's texts (glibc's strerror) for the errors connect(2) and the first read or write return.
const connectErrno: Record<string, string> = {
  ECONNREFUSED: 'connect: connection refused',
  EHOSTUNREACH: 'connect: no route to host',
  ENETUNREACH: 'connect: network is unreachable',
  EADDRNOTAVAIL: 'connect: cannot assign requested address',
  EACCES: 'connect: permission denied',
  EPERM: 'connect: operation not permitted',
  ECONNRESET: 'read: connection reset by peer',
  EPIPE: 'write: broken pipe',
  ECONNABORTED: 'read: software caused connection abort',
};

// x509 verification failures as Go's crypto/tls reports them.
const certificate: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'x509: certificate signed by unknown authority',
  UNABLE_TO_GET_ISSUER_CERT: 'x509: certificate signed by unknown authority',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'x509: certificate signed by unknown authority',
  SELF_SIGNED_CERT_IN_CHAIN: 'x509: certificate signed by unknown authority',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'x509: certificate signed by unknown authority',
  CERT_SIGNATURE_FAILURE: 'x509: certificate signed by unknown authority',
  CERT_HAS_EXPIRED: 'x509: certificate has expired or is not yet valid',
  CERT_NOT_YET_VALID: 'x509: certificate has expired or is not yet valid',
};

/**
 * `err` (a Node socket, DNS or TLS error, or a timeout the caller gave code ETIMEDOUT) while dialing
 * host:port, worded as Go's net.OpError / DNSError / tls errors. Errors without a known code keep a
 * generic Go-like text; Node's own wording (error codes, "connect ...") never comes through.
 */
export function goDialError(err: unknown, host: string, port: number | string): string {
  const e = (typeof err === 'object' && err !== null ? err : {}) as ErrnoLike;
  const code = typeof e.code === 'string' ? e.code : '';
  const addr = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  if (code === 'ENOTFOUND') return `dial tcp: lookup ${typeof e.hostname === 'string' ? e.hostname : host}: no such host`;
  if (code === 'EAI_AGAIN') return `dial tcp: lookup ${typeof e.hostname === 'string' ? e.hostname : host}: Temporary failure in name resolution`;
  if (code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT') return `dial tcp ${addr}: i/o timeout`;
  const errno = connectErrno[code];
  if (errno) return `dial tcp ${addr}: ${errno}`;
  const cert = certificate[code];
  if (cert) return `tls: failed to verify certificate: ${cert}`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `tls: failed to verify certificate: x509: certificate is not valid for ${host}`;
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) return 'remote error: tls: handshake failure';
  // A socket closed before an answer (Node: "socket hang up"), as Go's reader sees it.
  if (/socket hang up/i.test(String(e.message ?? ''))) return 'EOF';
  return `dial tcp ${addr}: connect: unknown error`;
}
