// certificates.k8s.io/v1 CertificateSigningRequests: the wire type, the well-known signers, key usages
// and condition types (k8s.io/api/certificates/v1), and the PKCS#10 requests they carry: parsing
// (certificates.ParseCSR), signature checking (x509.CertificateRequest.CheckSignature) and creating
// one (what the node agent does when it bootstraps, as client-go's certificate manager does).
//
// Pure: no I/O. Parsing and checking are synchronous (the API server's validation calls them);
// creating a request is async (WebCrypto signs).

import '../../util/reflect-shim.ts';
import * as x509 from '@peculiar/x509';
import { createPublicKey, verify as verifySignature } from 'node:crypto';
import type * as certificates from 'kubernetes-types/certificates/v1.js';
import type { Mutable, ObjectMeta } from '../types.ts';

x509.cryptoProvider.set(globalThis.crypto);

export type CertificateSigningRequestSpec = Mutable<certificates.CertificateSigningRequestSpec>;
export type CertificateSigningRequestStatus = Mutable<certificates.CertificateSigningRequestStatus>;
export type CertificateSigningRequestCondition = Mutable<certificates.CertificateSigningRequestCondition>;
export interface CertificateSigningRequest {
  apiVersion?: 'certificates.k8s.io/v1';
  kind?: 'CertificateSigningRequest';
  metadata?: ObjectMeta;
  spec: CertificateSigningRequestSpec;
  status?: CertificateSigningRequestStatus;
}

// The names a node needs and its request's making live in request.ts (no @peculiar/x509 there).
export {
  BOOTSTRAP_USER_PREFIX,
  BOOTSTRAPPERS_GROUP,
  createCsr,
  KUBE_APISERVER_CLIENT_SIGNER,
  KUBELET_CLIENT_SIGNER,
  KUBELET_SERVING_SIGNER,
  LEGACY_UNKNOWN_SIGNER,
  NODE_PASSWORD_REJECTED,
  NODE_USER_PREFIX,
  NODES_GROUP,
  type NewCsr,
} from './request.ts';
import { NODE_USER_PREFIX, NODES_GROUP } from './request.ts';

export const APPROVED = 'Approved';
export const DENIED = 'Denied';
export const FAILED = 'Failed';

/** Every key usage the API accepts (certificates.KeyUsage values), sorted as Go's sets.String.List(). */
export const ALL_KEY_USAGES: readonly string[] = [
  'any', 'cert sign', 'client auth', 'code signing', 'content commitment', 'crl sign', 'data encipherment', 'decipher only', 'digital signature',
  'email protection', 'encipher only', 'ipsec end system', 'ipsec tunnel', 'ipsec user', 'key agreement', 'key encipherment', 'microsoft sgc',
  'netscape sgc', 'ocsp signing', 's/mime', 'server auth', 'signing', 'timestamping',
];

export class CsrParseError extends Error {
  readonly code = 'ERR_CSR_PARSE';
  constructor(message: string) {
    super(message);
    this.name = 'CsrParseError';
  }
}

/** What the approvers and signers read of a PKCS#10 request (Go's x509.CertificateRequest). */
export interface ParsedCsr {
  commonName: string;
  organizations: string[];
  dnsNames: string[];
  ipAddresses: string[];
  emailAddresses: string[];
  uris: string[];
  /** SubjectPublicKeyInfo, DER. */
  publicKeySpki: Buffer;
  /** The subject as DER-ready JSON name, for copying into a certificate. */
  subject: x509.Name;
  /** The DER of the whole request. */
  der: Buffer;
  /** The PKCS#9 challengePassword attribute, if the request carries one (the node password of a joining agent). */
  challengePassword?: string;
}

/** The PEM document of spec.request (base64 of PEM on the wire); Buffer.from is lenient, as Go's decoder of []byte is not, but both take valid input. */
export function requestBytes(csr: Pick<CertificateSigningRequest, 'spec'>): Buffer {
  return Buffer.from(csr.spec?.request ?? '', 'base64');
}

/**
 * certificates.ParseCSR: the first PEM block must be a CERTIFICATE REQUEST, whose DER must parse.
 * Throws CsrParseError with Go's message for a wrong block.
 */
export function parseCsr(pem: Buffer | string): ParsedCsr {
  const text = typeof pem === 'string' ? pem : pem.toString('latin1');
  // One request is parsed by validation on its create and on each status write (approval, the
  // certificate), then by the approver and the signer: ~10 ms of ASN.1 each time (0.4 s of a 3-node
  // start, profiled). The requests of the last few CSRs are kept parsed; nothing mutates a ParsedCsr.
  const cached = recentlyParsed.get(text);
  if (cached) return cached;
  const out = parseCsrText(text);
  recentlyParsed.set(text, out);
  if (recentlyParsed.size > 64) recentlyParsed.delete(recentlyParsed.keys().next().value!);
  return out;
}

const recentlyParsed = new Map<string, ParsedCsr>();

function parseCsrText(text: string): ParsedCsr {
  const m = /-----BEGIN ([^-\n]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (!m || m[1] !== 'CERTIFICATE REQUEST') throw new CsrParseError('PEM block type must be CERTIFICATE REQUEST');
  const der = Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64');
  let req: x509.Pkcs10CertificateRequest;
  try {
    req = new x509.Pkcs10CertificateRequest(der);
  } catch (err) {
    throw new CsrParseError(`asn1: structure error: ${err instanceof Error ? err.message : String(err)}`);
  }
  const out: ParsedCsr = {
    commonName: req.subjectName.getField('CN')[0] ?? '',
    organizations: req.subjectName.getField('O'),
    dnsNames: [],
    ipAddresses: [],
    emailAddresses: [],
    uris: [],
    publicKeySpki: Buffer.from(req.publicKey.rawData),
    subject: req.subjectName,
    der,
  };
  const challenge = req.getAttribute(CHALLENGE_PASSWORD_OID);
  if (challenge instanceof x509.ChallengePasswordAttribute) out.challengePassword = challenge.password;
  const san = req.extensions.find((e): e is x509.SubjectAlternativeNameExtension => e instanceof x509.SubjectAlternativeNameExtension);
  for (const n of san?.names.items ?? []) {
    if (n.type === 'dns') out.dnsNames.push(n.value);
    else if (n.type === 'ip') out.ipAddresses.push(n.value);
    else if (n.type === 'email') out.emailAddresses.push(n.value);
    else if (n.type === 'url') out.uris.push(n.value);
  }
  return out;
}

/** PKCS#9 challengePassword (RFC 2985 5.4.1). */
const CHALLENGE_PASSWORD_OID = '1.2.840.113549.1.9.7';

// Signature algorithm OIDs Go's x509 checks CSRs with, and the digest each uses.
const SIGNATURE_ALGORITHMS: Record<string, { hash: string | null; family: 'ECDSA' | 'RSA' | 'Ed25519' }> = {
  '1.2.840.10045.4.3.2': { hash: 'sha256', family: 'ECDSA' },
  '1.2.840.10045.4.3.3': { hash: 'sha384', family: 'ECDSA' },
  '1.2.840.10045.4.3.4': { hash: 'sha512', family: 'ECDSA' },
  '1.2.840.113549.1.1.11': { hash: 'sha256', family: 'RSA' },
  '1.2.840.113549.1.1.12': { hash: 'sha384', family: 'RSA' },
  '1.2.840.113549.1.1.13': { hash: 'sha512', family: 'RSA' },
  '1.3.101.112': { hash: null, family: 'Ed25519' },
};

/**
 * x509.CertificateRequest.CheckSignature: the request is signed by the key it carries. Returns Go's
 * error text, or undefined when the signature holds. Synchronous (node:crypto), so validation can call it.
 */
export function checkCsrSignature(parsed: ParsedCsr): string | undefined {
  let parts: { tbs: Buffer; algorithm: string; signature: Buffer };
  try {
    parts = splitSigned(parsed.der);
  } catch {
    return 'x509: malformed certificate request';
  }
  const alg = SIGNATURE_ALGORITHMS[parts.algorithm];
  if (!alg) return 'x509: cannot verify signature: algorithm unimplemented';
  let ok = false;
  try {
    const key = createPublicKey({ key: parsed.publicKeySpki, format: 'der', type: 'spki' });
    ok = verifySignature(alg.hash, parts.tbs, key, parts.signature);
  } catch {
    ok = false;
  }
  if (ok) return undefined;
  if (alg.family === 'ECDSA') return 'x509: ECDSA verification failure';
  if (alg.family === 'RSA') return 'crypto/rsa: verification error';
  return 'x509: Ed25519 verification failure';
}

/** Splits a DER SEQUENCE { tbs, AlgorithmIdentifier, BIT STRING } into its signed bytes, algorithm OID and signature. */
function splitSigned(der: Buffer): { tbs: Buffer; algorithm: string; signature: Buffer } {
  const outer = readTlv(der, 0);
  if (outer.tag !== 0x30) throw new CsrParseError('not a SEQUENCE');
  const tbs = readTlv(der, outer.contentStart);
  const alg = readTlv(der, tbs.end);
  const sig = readTlv(der, alg.end);
  if (alg.tag !== 0x30 || sig.tag !== 0x03) throw new CsrParseError('unexpected structure');
  const oid = readTlv(der, alg.contentStart);
  if (oid.tag !== 0x06) throw new CsrParseError('no algorithm OID');
  return {
    tbs: der.subarray(tbs.start, tbs.end),
    algorithm: decodeOid(der.subarray(oid.contentStart, oid.end)),
    // The first content byte of a BIT STRING counts its unused bits (0 for signatures).
    signature: der.subarray(sig.contentStart + 1, sig.end),
  };
}

function readTlv(buf: Buffer, at: number): { tag: number; start: number; contentStart: number; end: number } {
  if (at + 2 > buf.length) throw new CsrParseError('truncated');
  const tag = buf[at]!;
  let len = buf[at + 1]!;
  let p = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > buf.length) throw new CsrParseError('bad length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i]!;
    p += n;
  }
  if (p + len > buf.length) throw new CsrParseError('truncated');
  return { tag, start: at, contentStart: p, end: p + len };
}

function decodeOid(b: Buffer): string {
  const out: number[] = [Math.floor(b[0]! / 40), b[0]! % 40];
  let v = 0;
  for (let i = 1; i < b.length; i++) {
    v = v * 128 + (b[i]! & 0x7f);
    if (!(b[i]! & 0x80)) {
      out.push(v);
      v = 0;
    }
  }
  return out.join('.');
}

/** The conditions of `type` that are True (Approved, Denied and Failed are only ever True). */
export function hasCondition(csr: Pick<CertificateSigningRequest, 'status'>, type: string): boolean {
  return (csr.status?.conditions ?? []).some((c) => c.type === type && c.status === 'True');
}

/** certificates.GetCertApprovalCondition: whether the request is approved, denied (Denied wins). */
export function approvalOf(csr: Pick<CertificateSigningRequest, 'status'>): { approved: boolean; denied: boolean } {
  let approved = false;
  let denied = false;
  for (const c of csr.status?.conditions ?? []) {
    if (c.type === APPROVED) approved = true;
    if (c.type === DENIED) denied = true;
  }
  return { approved, denied };
}

/** Go's %v of a []string: `[a b c]`. */
export function goList(items: readonly string[]): string {
  return `[${items.join(' ')}]`;
}

const KUBELET_CLIENT_USAGES = ['client auth', 'digital signature', 'key encipherment'];
const KUBELET_CLIENT_USAGES_NO_RSA = ['client auth', 'digital signature'];
const KUBELET_SERVING_USAGES = ['digital signature', 'key encipherment', 'server auth'];
const KUBELET_SERVING_USAGES_NO_RSA = ['digital signature', 'server auth'];

function sameSet(usages: readonly string[], want: readonly string[]): boolean {
  const s = new Set(usages);
  return s.size === want.length && want.every((u) => s.has(u));
}

function onlySystemNodes(req: ParsedCsr): boolean {
  return req.organizations.length === 1 && req.organizations[0] === NODES_GROUP;
}

/** certificates/v1 ValidateKubeletClientCSR: the error text, or undefined when it is a kubelet client request. */
export function validateKubeletClientCsr(req: ParsedCsr, usages: readonly string[]): string | undefined {
  if (!onlySystemNodes(req)) return 'subject organization is not system:nodes';
  if (req.dnsNames.length) return 'DNS subjectAltNames are not allowed';
  if (req.emailAddresses.length) return 'Email subjectAltNames are not allowed';
  if (req.ipAddresses.length) return 'IP subjectAltNames are not allowed';
  if (req.uris.length) return 'URI subjectAltNames are not allowed';
  if (!req.commonName.startsWith(NODE_USER_PREFIX)) return 'subject common name does not begin with system:node:';
  if (!sameSet(usages, KUBELET_CLIENT_USAGES) && !sameSet(usages, KUBELET_CLIENT_USAGES_NO_RSA)) return `usages did not match ${goList(KUBELET_CLIENT_USAGES)}`;
  return undefined;
}

/** certificates/v1 ValidateKubeletServingCSR: the error text, or undefined when it is a kubelet serving request. */
export function validateKubeletServingCsr(req: ParsedCsr, usages: readonly string[]): string | undefined {
  if (!onlySystemNodes(req)) return 'subject organization is not system:nodes';
  if (!req.dnsNames.length && !req.ipAddresses.length) return 'DNS or IP subjectAltName is required';
  if (req.emailAddresses.length) return 'Email subjectAltNames are not allowed';
  if (req.uris.length) return 'URI subjectAltNames are not allowed';
  if (!sameSet(usages, KUBELET_SERVING_USAGES) && !sameSet(usages, KUBELET_SERVING_USAGES_NO_RSA)) return `usages did not match ${goList(KUBELET_SERVING_USAGES)}`;
  if (!req.commonName.startsWith(NODE_USER_PREFIX)) return 'subject common name does not begin with system:node:';
  return undefined;
}

/** The signer's check of kubernetes.io/kube-apiserver-client usages (validAPIServerClientUsages). */
export function validateApiServerClientUsages(usages: readonly string[]): string | undefined {
  let clientAuth = false;
  for (const u of usages) {
    if (u === 'client auth') clientAuth = true;
    else if (u !== 'digital signature' && u !== 'key encipherment') return `invalid usage for client certificate: ${u}`;
  }
  return clientAuth ? undefined : 'missing required usage for client certificate: client auth';
}
