// A throwaway serving certificate for HTTPS test servers on 127.0.0.1 (ECDSA P-256, self-signed, an
// hour either side of now), so client tests exercise TLS without the cluster's PKI.
import '../../util/reflect-shim.ts';
import * as x509 from '@peculiar/x509';

export async function selfSignedLoopback(): Promise<{ cert: string; key: string }> {
  const keys = await globalThis.crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({ serialNumber: '01', name: 'CN=kube-apiserver', notBefore: new Date(now - 3600_000), notAfter: new Date(now + 3600_000), signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' }, keys, extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }])] });
  const der = Buffer.from(await globalThis.crypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { cert: cert.toString('pem') + '\n', key: `-----BEGIN PRIVATE KEY-----\n${der.toString('base64')}\n-----END PRIVATE KEY-----\n` };
}
