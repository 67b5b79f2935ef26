// What a node needs to ask for a certificate: the well-known signer and identity names, and a fresh
// key with its PKCS#10 request (RFC 2986), encoded with asn1js and signed by node:crypto. The parsing
// and checking side (csr.ts) uses @peculiar/x509, whose ~200 modules cost an agent ~140 ms of CPU
// at every start; a node only ever makes requests, so it loads this instead.

import * as asn1 from 'asn1js';
import { generateKeyPairSync, sign } from 'node:crypto';
import { isIP } from 'node:net';

/** The signers Kubernetes defines (certificates.k8s.io/v1 well-known signer names). */
export const KUBE_APISERVER_CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client';
export const KUBELET_CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client-kubelet';
export const KUBELET_SERVING_SIGNER = 'kubernetes.io/kubelet-serving';
export const LEGACY_UNKNOWN_SIGNER = 'kubernetes.io/legacy-unknown';

/** The Denied reason of a node's bootstrap request refused by its node password (tinykube's; k3s refuses the join over HTTP). */
export const NODE_PASSWORD_REJECTED = 'NodePasswordRejected';

/** The node identity conventions of the kubelet signers. */
export const NODE_USER_PREFIX = 'system:node:';
export const NODES_GROUP = 'system:nodes';
/** Kubernetes' bootstrap-token identity: user `system:bootstrap:<token id>` in this group (tinykube's join token too). */
export const BOOTSTRAP_USER_PREFIX = 'system:bootstrap:';
export const BOOTSTRAPPERS_GROUP = 'system:bootstrappers';

export interface NewCsr {
  /** PEM of the PKCS#10 request. */
  csrPem: string;
  /** PKCS#8 PEM of its private key. */
  keyPem: string;
}

const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  challengePassword: '1.2.840.113549.1.9.7',
  extensionRequest: '1.2.840.113549.1.9.14',
  subjectAltName: '2.5.29.17',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
};

/**
 * A fresh ECDSA P-256 key and a request for it (what kubelet's certificate manager makes): subject
 * CN and O, SANs split by kind (IP literals as IP SANs, the rest as DNS names), and optionally a
 * PKCS#9 challengePassword attribute.
 */
export async function createCsr(subject: { commonName: string; organizations?: string[] }, hosts: string[] = [], options: { challengePassword?: string } = {}): Promise<NewCsr> {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  // Name: one RDN (a SET of one AttributeTypeAndValue) per value, in the order Go's pkix.Name writes them (O, then CN).
  const rdn = (oid: string, value: string) => new asn1.Set({ value: [new asn1.Sequence({ value: [new asn1.ObjectIdentifier({ value: oid }), new asn1.Utf8String({ value })] })] });
  const name = new asn1.Sequence({ value: [...(subject.organizations ?? []).map((o) => rdn(OID.organization, o)), rdn(OID.commonName, subject.commonName)] });
  const spki = asn1.fromBER(publicKey.export({ type: 'spki', format: 'der' }));
  if (spki.offset === -1) throw new Error('encoding the public key failed');
  const attributes: asn1.Sequence[] = [];
  if (options.challengePassword !== undefined) {
    attributes.push(new asn1.Sequence({ value: [new asn1.ObjectIdentifier({ value: OID.challengePassword }), new asn1.Set({ value: [new asn1.Utf8String({ value: options.challengePassword })] })] }));
  }
  if (hosts.length > 0) {
    // GeneralName: dNSName [2] IA5String, iPAddress [7] OCTET STRING, both IMPLICIT.
    const names = hosts.map((h) =>
      isIP(h) ? new asn1.Primitive({ idBlock: { tagClass: 3, tagNumber: 7 }, valueHex: ipBytes(h) }) : new asn1.Primitive({ idBlock: { tagClass: 3, tagNumber: 2 }, valueHex: Buffer.from(h, 'ascii') }),
    );
    const extension = new asn1.Sequence({ value: [new asn1.ObjectIdentifier({ value: OID.subjectAltName }), new asn1.OctetString({ valueHex: new asn1.Sequence({ value: names }).toBER(false) })] });
    attributes.push(new asn1.Sequence({ value: [new asn1.ObjectIdentifier({ value: OID.extensionRequest }), new asn1.Set({ value: [new asn1.Sequence({ value: [extension] })] })] }));
  }
  const info = new asn1.Sequence({
    value: [
      new asn1.Integer({ value: 0 }),
      name,
      spki.result,
      // attributes [0] IMPLICIT SET OF Attribute, in DER order (by encoding).
      new asn1.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: derSorted(attributes) }),
    ],
  });
  const tbs = Buffer.from(info.toBER(false));
  const signature = sign('sha256', tbs, { key: privateKey, dsaEncoding: 'der' });
  const request = new asn1.Sequence({
    value: [asn1.fromBER(tbs).result, new asn1.Sequence({ value: [new asn1.ObjectIdentifier({ value: OID.ecdsaWithSHA256 })] }), new asn1.BitString({ valueHex: signature })],
  });
  return {
    csrPem: toPem('CERTIFICATE REQUEST', Buffer.from(request.toBER(false))) + '\n',
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

function ipBytes(ip: string): Uint8Array {
  if (isIP(ip) === 4) return Uint8Array.from(ip.split('.').map(Number));
  // IPv6: expand "::" and write the eight 16-bit groups.
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

function derSorted(items: asn1.Sequence[]): asn1.Sequence[] {
  return items
    .map((i) => ({ i, der: Buffer.from(i.toBER(false)) }))
    .sort((a, b) => Buffer.compare(a.der, b.der))
    .map((x) => x.i);
}

function toPem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----`;
}
