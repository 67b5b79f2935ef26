// Reading a kubeconfig into client options (the subset tinykube and kubectl's common setups use:
// server, CA, token, client cert/key, inline `-data` or file paths relative to the kubeconfig's folder).
// Called by ApiClient.fromKubeconfig and the CLI; synchronous because it runs once at start.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ClientConfigError } from './errors.ts';

export interface ClientCredentials {
  server: string;
  caPem?: string;
  token?: string;
  certPem?: string;
  keyPem?: string;
  insecureSkipTlsVerify?: boolean;
  /** The context's namespace, if it names one. */
  namespace?: string;
}

// yaml is loaded on first use: every ApiClient imports this module, and a node agent, which never
// reads a kubeconfig, would otherwise load yaml's 72 modules at every start.
let yamlParse: ((text: string) => unknown) | undefined;
function parseYaml(text: string): unknown {
  yamlParse ??= (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse;
  return yamlParse(text);
}

export function readKubeconfigFile(file: string, context?: string): ClientCredentials {
  return parseKubeconfig(readFileSync(file, 'utf8'), { context, baseDir: path.dirname(path.resolve(file)), source: file });
}

export function parseKubeconfig(text: string, options: { context?: string; baseDir?: string; source?: string } = {}): ClientCredentials {
  const source = options.source ?? 'kubeconfig';
  const doc = record(parseYaml(text), source);
  const ctxName = options.context ?? str(doc['current-context']);
  if (!ctxName) throw new ClientConfigError(`${source}: no context given and no current-context`);
  const ctx = record(named(doc.contexts, ctxName, 'context', source).context, `${source}: context ${ctxName}`);
  const clusterName = str(ctx.cluster);
  if (!clusterName) throw new ClientConfigError(`${source}: context ${ctxName} names no cluster`);
  const cluster = record(named(doc.clusters, clusterName, 'cluster', source).cluster, `${source}: cluster ${clusterName}`);
  const server = str(cluster.server);
  if (!server) throw new ClientConfigError(`${source}: cluster ${clusterName} has no server`);
  const base = options.baseDir ?? process.cwd();
  const out: ClientCredentials = { server };
  const ca = inline(cluster, 'certificate-authority', base);
  if (ca !== undefined) out.caPem = ca;
  if (cluster['insecure-skip-tls-verify'] === true) out.insecureSkipTlsVerify = true;
  const userName = str(ctx.user);
  if (userName) {
    const user = record(named(doc.users, userName, 'user', source).user ?? {}, `${source}: user ${userName}`);
    const token = str(user.token) ?? fileText(str(user.tokenFile), base)?.trim();
    if (token) out.token = token;
    const cert = inline(user, 'client-certificate', base);
    const key = inline(user, 'client-key', base);
    if (cert !== undefined) out.certPem = cert;
    if (key !== undefined) out.keyPem = key;
  }
  const ns = str(ctx.namespace);
  if (ns) out.namespace = ns;
  return out;
}

function inline(obj: Record<string, unknown>, field: string, base: string): string | undefined {
  const data = str(obj[`${field}-data`]);
  if (data) return Buffer.from(data, 'base64').toString('utf8');
  return fileText(str(obj[field]), base);
}

function fileText(file: string | undefined, base: string): string | undefined {
  if (!file) return undefined;
  return readFileSync(path.resolve(base, file), 'utf8');
}

function named(list: unknown, name: string, what: string, source: string): Record<string, unknown> {
  if (Array.isArray(list)) {
    for (const item of list) {
      if (typeof item === 'object' && item !== null && (item as Record<string, unknown>).name === name) return item as Record<string, unknown>;
    }
  }
  throw new ClientConfigError(`${source}: ${what} "${name}" not found`);
}

function record(v: unknown, where: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ClientConfigError(`${where}: expected a mapping`);
  return v as Record<string, unknown>;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
