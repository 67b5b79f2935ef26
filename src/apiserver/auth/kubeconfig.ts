// Writing kubeconfig files for kubectl and for tinykube's own components.
//
// Called by: `tinykube up` / `tinykube server` at start (writeAdminKubeconfig, every start: the file is
// derived state, rewritten from the PKI) and whenever the server renews the admin certificate (its
// CertificateRotator), and by `up --write-kubeconfig` (mergeIntoKubeconfig into
// ~/.kube/config). Not concurrent-safe for one path (last writer wins, but never a torn file: writes are
// write-then-rename). Both are idempotent.
// Reading kubeconfigs is the client's business (src/client/kubeconfig.ts): dependencies point one way.

import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import type { Pki } from './pki.ts';

export interface KubeconfigCluster {
  name: string;
  /** e.g. `https://127.0.0.1:6443` (see serverUrl for IPv6). */
  server: string;
  caPem: string;
}

export interface KubeconfigUser {
  name: string;
  token?: string;
  certPem?: string;
  keyPem?: string;
}

export interface KubeconfigContext {
  name: string;
  cluster: string;
  user: string;
  namespace?: string;
}

export interface WriteAdminKubeconfigOptions {
  /** Default `<dataDir>/kubeconfig`. */
  path?: string;
  /** Admin credentials to embed: the client cert (default, like k3s) or the bearer token. */
  auth?: 'cert' | 'token';
  /** Name used for the cluster and context (default `tinykube`); the user is `<name>-admin`. */
  name?: string;
}

export const DEFAULT_CONTEXT = 'tinykube';

export class KubeconfigError extends Error {
  readonly code = 'ERR_KUBECONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'KubeconfigError';
  }
}

/** `https://host:port`, bracketing IPv6 literals. */
export function serverUrl(host: string, port: number): string {
  return `https://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
}

/** The admin entries for a cluster, ready for kubeconfigYaml or mergeIntoKubeconfig. */
export function adminEntries(pki: Pki, server: string, options: Pick<WriteAdminKubeconfigOptions, 'auth' | 'name'> = {}): {
  cluster: KubeconfigCluster;
  user: KubeconfigUser;
  context: KubeconfigContext;
} {
  const name = options.name ?? DEFAULT_CONTEXT;
  const user: KubeconfigUser = { name: `${name}-admin` };
  if ((options.auth ?? 'cert') === 'token') user.token = pki.adminToken;
  else {
    user.certPem = pki.adminCertPem;
    user.keyPem = pki.adminKeyPem;
  }
  return {
    cluster: { name, server, caPem: pki.caCertPem },
    user,
    context: { name, cluster: name, user: user.name },
  };
}

/** A complete single-context kubeconfig document. */
export function kubeconfigYaml(cluster: KubeconfigCluster, user: KubeconfigUser, context: KubeconfigContext): string {
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    clusters: [clusterEntry(cluster)],
    users: [userEntry(user)],
    contexts: [contextEntry(context)],
    'current-context': context.name,
  };
  return stringify(doc, { lineWidth: 0 });
}

/** Writes the admin kubeconfig (mode 0600) and returns its path. */
export async function writeAdminKubeconfig(pki: Pki, server: string, options: WriteAdminKubeconfigOptions = {}): Promise<string> {
  const file = options.path ?? path.join(pki.paths.dataDir, 'kubeconfig');
  const { cluster, user, context } = adminEntries(pki, server, options);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeAtomic(file, kubeconfigYaml(cluster, user, context));
  return file;
}

/** `$KUBECONFIG`'s first entry, else `~/.kube/config` (kubectl writes to the first file of the list too). */
export function defaultKubeconfigPath(): string {
  const env = process.env.KUBECONFIG;
  const first = env?.split(path.delimiter).find((p) => p.length > 0);
  return first ?? path.join(homedir(), '.kube', 'config');
}

/**
 * Adds or replaces (by name) one cluster, user and context in an existing kubeconfig, keeping every
 * other entry and top-level field. Creates the file (0600) when missing. Sets `current-context` unless
 * `setCurrentContext` is false.
 */
export async function mergeIntoKubeconfig(
  file: string,
  cluster: KubeconfigCluster,
  user: KubeconfigUser,
  context: KubeconfigContext,
  options: { setCurrentContext?: boolean } = {},
): Promise<void> {
  let doc: Record<string, unknown> = {};
  let text: string | undefined;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (text !== undefined && text.trim() !== '') {
    const parsed: unknown = parse(text);
    if (parsed !== null && parsed !== undefined) {
      if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new KubeconfigError(`${file}: not a kubeconfig (top level is not a mapping)`);
      doc = parsed as Record<string, unknown>;
    }
  }
  doc.apiVersion ??= 'v1';
  doc.kind ??= 'Config';
  doc.clusters = upsert(doc.clusters, clusterEntry(cluster), file, 'clusters');
  doc.users = upsert(doc.users, userEntry(user), file, 'users');
  doc.contexts = upsert(doc.contexts, contextEntry(context), file, 'contexts');
  if (options.setCurrentContext ?? true) doc['current-context'] = context.name;
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeAtomic(file, stringify(doc, { lineWidth: 0 }));
}

// --- internals -------------------------------------------------------------------------------------

function b64(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64');
}

function clusterEntry(c: KubeconfigCluster): Record<string, unknown> {
  return { name: c.name, cluster: { server: c.server, 'certificate-authority-data': b64(c.caPem) } };
}

function userEntry(u: KubeconfigUser): Record<string, unknown> {
  const user: Record<string, string> = {};
  if (u.certPem !== undefined) user['client-certificate-data'] = b64(u.certPem);
  if (u.keyPem !== undefined) user['client-key-data'] = b64(u.keyPem);
  if (u.token !== undefined) user.token = u.token;
  return { name: u.name, user };
}

function contextEntry(c: KubeconfigContext): Record<string, unknown> {
  const context: Record<string, string> = { cluster: c.cluster, user: c.user };
  if (c.namespace !== undefined) context.namespace = c.namespace;
  return { name: c.name, context };
}

function upsert(list: unknown, entry: Record<string, unknown>, file: string, field: string): unknown[] {
  if (list === undefined || list === null) return [entry];
  if (!Array.isArray(list)) throw new KubeconfigError(`${file}: "${field}" is not a list`);
  const out: unknown[] = [];
  let replaced = false;
  for (const item of list) {
    const isSame = typeof item === 'object' && item !== null && (item as Record<string, unknown>).name === entry.name;
    if (isSame && !replaced) {
      out.push(entry);
      replaced = true;
    } else if (!isSame) out.push(item);
  }
  if (!replaced) out.push(entry);
  return out;
}

async function writeAtomic(file: string, content: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, content, { mode: 0o600 });
  await rename(tmp, file);
}
