import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { goDialError } from './neterror.ts';

test('goDialError words Node socket errors as Go\'s net and tls errors', () => {
  const errno = (code: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(`connect ${code} 10.0.0.1:10250`), { code, ...extra });
  const cases: Array<{ err: unknown; host?: string; want: string }> = [
    { err: errno('ECONNREFUSED'), want: 'dial tcp 10.0.0.1:10250: connect: connection refused' },
    { err: errno('EHOSTUNREACH'), want: 'dial tcp 10.0.0.1:10250: connect: no route to host' },
    { err: errno('ENETUNREACH'), want: 'dial tcp 10.0.0.1:10250: connect: network is unreachable' },
    { err: errno('ETIMEDOUT'), want: 'dial tcp 10.0.0.1:10250: i/o timeout' },
    { err: errno('ECONNRESET'), want: 'dial tcp 10.0.0.1:10250: read: connection reset by peer' },
    { err: errno('ENOTFOUND', { hostname: 'node-a.example' }), host: 'node-a.example', want: 'dial tcp: lookup node-a.example: no such host' },
    { err: errno('EAI_AGAIN'), host: 'node-a', want: 'dial tcp: lookup node-a: Temporary failure in name resolution' },
    { err: errno('SELF_SIGNED_CERT_IN_CHAIN'), want: 'tls: failed to verify certificate: x509: certificate signed by unknown authority' },
    { err: errno('CERT_HAS_EXPIRED'), want: 'tls: failed to verify certificate: x509: certificate has expired or is not yet valid' },
    { err: errno('ERR_TLS_CERT_ALTNAME_INVALID'), want: 'tls: failed to verify certificate: x509: certificate is not valid for 10.0.0.1' },
    { err: errno('ERR_SSL_WRONG_VERSION_NUMBER'), want: 'remote error: tls: handshake failure' },
    { err: new Error('socket hang up'), want: 'EOF' },
    { err: errno('ECONNREFUSED'), host: 'fd00::1', want: 'dial tcp [fd00::1]:10250: connect: connection refused' },
    { err: 'not an error', want: 'dial tcp 10.0.0.1:10250: connect: unknown error' },
  ];
  for (const c of cases) assert.equal(goDialError(c.err, c.host ?? '10.0.0.1', 10250), c.want, String((c.err as Error).message ?? c.err));
});

test('goDialError on a real refused connection', async () => {
  // A port that was just free: listen on 0, note the port, close, then dial it.
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  const err = await new Promise<Error>((resolve) => net.connect({ host: '127.0.0.1', port }).once('error', resolve));
  assert.equal(goDialError(err, '127.0.0.1', port), `dial tcp 127.0.0.1:${port}: connect: connection refused`);
});
