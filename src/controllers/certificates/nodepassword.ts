// Node passwords: one machine per node name, as k3s keeps it. A joining agent keeps a random password
// in its data dir and sends it with its bootstrap request; the first join of a name stores a salted
// hash of it in kube-system/<node>.node-password.tinykube (k3s: <node>.node-password.k3s); a later
// bootstrap of that name with another password is refused, so a second machine given an existing
// node's name (a cloned disk, a repeated --name) cannot take over that node's identity, its pods and
// its pod CIDR's routes. The Secret is owned by its Node once the Node exists, so `kubectl delete
// node NAME` lets a re-installed machine join again (k3s deletes it with the Node too).
//
// The hash is scrypt (node:crypto) with a random salt, encoded with its parameters so they can change
// without breaking stored hashes. Pure but for the hashing; the approver does the reads and writes.

import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { Node, Secret } from '../../api/types.ts';

export const NODE_PASSWORD_NAMESPACE = 'kube-system';
export const NODE_PASSWORD_SECRET_TYPE = 'tinykube.io/node-password';
/** The Secret's data key holding the encoded hash. */
export const NODE_PASSWORD_HASH_KEY = 'hash';

export { NODE_PASSWORD_REJECTED } from '../../api/certificates/csr.ts';

/** k3s' message for a join refused by its node password, kept so users find the same advice. */
export const K3S_REJECTED_MESSAGE = "Node password rejected, duplicate hostname or contents of '/etc/rancher/node/password' may not match server node-passwd entry";

export function nodePasswordSecretName(nodeName: string): string {
  return `${nodeName}.node-password.tinykube`;
}

/** The node a node-password Secret's name is for, or undefined for another name. */
export function nodeOfPasswordSecret(secretName: string): string | undefined {
  const suffix = '.node-password.tinykube';
  return secretName.endsWith(suffix) && secretName.length > suffix.length ? secretName.slice(0, -suffix.length) : undefined;
}

// scrypt's cost: N = 2^14, r = 8, p = 1 (16 MiB, ~50 ms), the parameters RFC 7914 and Go's x/crypto
// docs give for interactive logins; a join happens once per machine. The cost is there for passwords
// people choose (an agent's password file may be written by hand). One an agent made (see
// src/client/bootstrap.ts: 16 random bytes, 32 hex digits) cannot be guessed at any cost, and its
// hash is on the way of every first join (3 at once took ~190 ms of `up --nodes 3`'s start on two
// cores): those are hashed at N = 2^10 (~3 ms), the least verifyNodePassword accepts.
const SCRYPT = { ln: 14, r: 8, p: 1 };
const SCRYPT_RANDOM = { ln: 10, r: 8, p: 1 };
const MACHINE_MADE = /^[0-9a-f]{32}$/;
const KEY_LEN = 32;

function scryptAsync(password: string, salt: Buffer, keyLen: number, o: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, keyLen, o, (err, key) => (err ? reject(err) : resolve(key))));
}

/**
 * `$scrypt$ln=14,r=8,p=1$<salt>$<hash>` (base64 without padding, as PHC strings write them); `ln=10`
 * for a password of the form agents make (128 random bits).
 */
export async function hashNodePassword(password: string, salt: Buffer = randomBytes(16)): Promise<string> {
  const c = MACHINE_MADE.test(password) ? SCRYPT_RANDOM : SCRYPT;
  const key = await scryptAsync(password, salt, KEY_LEN, { N: 2 ** c.ln, r: c.r, p: c.p, maxmem: 64 * 1024 * 1024 });
  return `$scrypt$ln=${c.ln},r=${c.r},p=${c.p}$${b64(salt)}$${b64(key)}`;
}

/** Whether `password` is the one `encoded` was made from; false for a malformed or unsupported hash. */
export async function verifyNodePassword(password: string, encoded: string): Promise<boolean> {
  const m = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(encoded);
  if (!m) return false;
  const [ln, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // A tampered Secret must not make the approver burn memory or CPU.
  if (ln < 10 || ln > 20 || r < 1 || r > 16 || p < 1 || p > 4) return false;
  const salt = Buffer.from(m[4]!, 'base64');
  const want = Buffer.from(m[5]!, 'base64');
  // A truncated hash is a prefix of the full one (scrypt ends in PBKDF2): only the full length counts.
  if (want.length !== KEY_LEN) return false;
  const got = await scryptAsync(password, salt, want.length, { N: 2 ** ln, r, p, maxmem: 256 * r * 2 ** ln + 32 * 1024 * 1024 });
  return timingSafeEqual(got, want);
}

function b64(b: Buffer): string {
  return b.toString('base64').replace(/=+$/, '');
}

/** The stored hash of a node-password Secret, or undefined when it holds none. */
export function storedHash(secret: Secret): string | undefined {
  const v = secret.data?.[NODE_PASSWORD_HASH_KEY];
  return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
}

export type NodePasswordDecision =
  /** `store`: create the Secret (first join), replace it (it belonged to a Node that is gone), or keep it. */
  | { accept: true; store: 'create' | 'replace' | 'keep' }
  | { accept: false; message: string };

export interface NodePasswordInput {
  nodeName: string;
  /** The password the request carries (its challengePassword), if any. */
  password: string | undefined;
  /** The node's password Secret as stored now, if any. */
  secret: Secret | undefined;
  /** The Node of that name as stored now, if any. */
  node: Node | undefined;
}

/**
 * Whether a bootstrap request for `nodeName` may join with its password. A Secret owned by a Node
 * while no Node of that name exists is stale (`kubectl delete node`: the garbage collector is about
 * to delete it), and the join is taken as the first. A Node of that name with another uid was made
 * again by the machine that holds the node's certificate: its Secret still holds (the approver
 * moves the reference to the new Node).
 */
export async function decideNodePassword(i: NodePasswordInput): Promise<NodePasswordDecision> {
  if (i.password === undefined || i.password === '') {
    return { accept: false, message: `the request for node "${i.nodeName}" carries no node password (challengePassword); ${K3S_REJECTED_MESSAGE}` };
  }
  // The Secret's name must be a DNS subdomain (253 characters): refuse now rather than leave the
  // request pending while its create fails.
  const max = 253 - nodePasswordSecretName('').length;
  if (i.nodeName.length > max) return { accept: false, message: `node name "${i.nodeName}" is longer than ${max} characters, too long for its node password Secret` };
  if (!i.secret) return { accept: true, store: 'create' };
  const owners = (i.secret.metadata?.ownerReferences ?? []).filter((o) => o.kind === 'Node' && o.apiVersion === 'v1');
  if (owners.length > 0 && !i.node) return { accept: true, store: 'replace' };
  const hash = storedHash(i.secret);
  if (hash !== undefined && (await verifyNodePassword(i.password, hash))) return { accept: true, store: 'keep' };
  return { accept: false, message: K3S_REJECTED_MESSAGE };
}

/** The Secret holding `hash` for `nodeName`, owned by its Node when it exists. */
export function nodePasswordSecret(nodeName: string, hash: string, node: Node | undefined): Secret {
  const uid = node?.metadata?.uid;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: nodePasswordSecretName(nodeName),
      namespace: NODE_PASSWORD_NAMESPACE,
      ...(uid ? { ownerReferences: [nodeOwnerReference(nodeName, uid)] } : {}),
    },
    type: NODE_PASSWORD_SECRET_TYPE,
    data: { [NODE_PASSWORD_HASH_KEY]: Buffer.from(hash).toString('base64') },
  };
}

/** A reference to the Node (namespaced dependents of cluster-scoped owners are allowed, and collected). */
export function nodeOwnerReference(nodeName: string, uid: string) {
  return { apiVersion: 'v1', kind: 'Node', name: nodeName, uid };
}
