// The node's registry configuration, in k3s' `registries.yaml` format, so a file written for k3s
// works here unchanged:
//
//   mirrors:
//     docker.io:
//       endpoint: ["http://127.0.0.1:5000"]
//   configs:
//     "127.0.0.1:5000":
//       auth: { username: u, password: p }        # or { auth: base64(u:p) } or { identitytoken: t }
//       tls: { insecure_skip_verify: true, ca_file: ..., cert_file: ..., key_file: ... }
//
// Parsed once at agent start (loadRegistries) and turned into containerd hosts.toml files
// (./hosts.ts) and CRI credentials (./auth.ts). Pure apart from reading the file.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

export type RegistryConfigErrorCode =
  /** The file cannot be read (other than not existing, which loadRegistries reports as undefined). */
  | 'ERR_REGISTRY_CONFIG_READ'
  /** Not YAML, or YAML with duplicate keys, anchors gone wrong... */
  | 'ERR_REGISTRY_CONFIG_YAML'
  /** YAML, but not the shape of a registries.yaml (wrong types, unknown keys, bad URLs). */
  | 'ERR_REGISTRY_CONFIG_INVALID';

export class RegistryConfigError extends Error {
  readonly code: RegistryConfigErrorCode;
  /** Where in the document: "configs.127.0.0.1:5000.tls.ca_file"; empty for the whole file. */
  readonly field: string;
  constructor(code: RegistryConfigErrorCode, message: string, field = '') {
    super(message);
    this.name = 'RegistryConfigError';
    this.code = code;
    this.field = field;
  }
}

export interface RegistryAuth {
  username?: string;
  password?: string;
  /** base64("user:password"), as in a docker config.json. */
  auth?: string;
  identityToken?: string;
}

export interface RegistryTls {
  insecureSkipVerify?: boolean;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

export interface RegistryHostConfig {
  auth?: RegistryAuth;
  tls?: RegistryTls;
}

export interface RegistryMirror {
  /** Endpoint URLs in the order containerd tries them ("http://127.0.0.1:5000", "https://m.example/v2"). */
  endpoints: string[];
}

export interface RegistriesConfig {
  /** Registry name ("docker.io", "registry.example.com:5000", "*" for every registry) → its mirrors. */
  mirrors: Record<string, RegistryMirror>;
  /** Endpoint host ("127.0.0.1:5000", "registry-1.docker.io") → credentials and TLS settings. */
  configs: Record<string, RegistryHostConfig>;
  /** k3s settings we read but cannot honour on containerd 1.6 (e.g. `rewrite`): the agent logs these. */
  warnings: string[];
}

export function emptyRegistries(): RegistriesConfig {
  return { mirrors: {}, configs: {}, warnings: [] };
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  return `a ${typeof v}`;
}

function invalid(field: string, message: string): RegistryConfigError {
  return new RegistryConfigError('ERR_REGISTRY_CONFIG_INVALID', `registries.yaml: ${field}: ${message}`, field);
}

function mapAt(v: unknown, field: string): Obj {
  if (v === undefined || v === null) return {};
  if (!isObj(v)) throw invalid(field, `must be a map, not ${typeName(v)}`);
  return v;
}

function stringAt(v: unknown, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalid(field, `must be a string, not ${typeName(v)}`);
  return v;
}

function boolAt(v: unknown, field: string): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw invalid(field, `must be true or false, not ${typeName(v)}`);
  return v;
}

function checkKeys(o: Obj, field: string, known: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!known.includes(k)) throw invalid(field ? `${field}.${k}` : k, `unknown field (known: ${known.join(', ')})`);
  }
}

/** A registry host as image references spell it: DNS name or IP, optional port; or "*". */
const HOST = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(?::\d{1,5})?$/;

function checkHost(h: string, field: string): string {
  if (h !== '*' && !HOST.test(h)) throw invalid(field, `"${h}" is not a registry host (host or host:port)`);
  return h;
}

/**
 * An endpoint as k3s accepts it: a URL with http or https scheme; a bare host gets https:// as
 * containerd gives it. Returned normalised (no trailing slash).
 */
export function normalizeEndpoint(raw: string, field: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `https://${raw}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw invalid(field, `"${raw}" is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw invalid(field, `"${raw}": only http:// and https:// endpoints are supported`);
  if (u.username || u.password) throw invalid(field, `"${raw}": put credentials under configs.<host>.auth, not in the URL`);
  if (u.search || u.hash) throw invalid(field, `"${raw}": an endpoint cannot have a query or fragment`);
  const path = u.pathname.replace(/\/+$/, '');
  return `${u.protocol}//${u.host}${path}`;
}

function parseAuth(v: unknown, field: string): RegistryAuth | undefined {
  if (v === undefined || v === null) return undefined;
  const o = mapAt(v, field);
  // k3s reads `identitytoken`; `identity_token` and `token` are what people write by analogy.
  checkKeys(o, field, ['username', 'password', 'auth', 'identitytoken', 'identity_token', 'token']);
  const a: RegistryAuth = {};
  const username = stringAt(o.username, `${field}.username`);
  const password = stringAt(o.password, `${field}.password`);
  const auth = stringAt(o.auth, `${field}.auth`);
  const token = stringAt(o.identitytoken, `${field}.identitytoken`) ?? stringAt(o.identity_token, `${field}.identity_token`) ?? stringAt(o.token, `${field}.token`);
  if (username !== undefined) a.username = username;
  if (password !== undefined) a.password = password;
  if (auth !== undefined) {
    const decoded = Buffer.from(auth, 'base64').toString('utf8');
    if (!/^[A-Za-z0-9+/=\s]*$/.test(auth) || !decoded.includes(':')) throw invalid(`${field}.auth`, 'must be base64 of "username:password"');
    a.auth = auth.replace(/\s/g, '');
  }
  if (token !== undefined) a.identityToken = token;
  if (password !== undefined && username === undefined) throw invalid(field, 'password without username');
  if (Object.keys(a).length === 0) return undefined;
  return a;
}

function parseTls(v: unknown, field: string): RegistryTls | undefined {
  if (v === undefined || v === null) return undefined;
  const o = mapAt(v, field);
  checkKeys(o, field, ['insecure_skip_verify', 'ca_file', 'cert_file', 'key_file']);
  const t: RegistryTls = {};
  const skip = boolAt(o.insecure_skip_verify, `${field}.insecure_skip_verify`);
  const ca = stringAt(o.ca_file, `${field}.ca_file`);
  const cert = stringAt(o.cert_file, `${field}.cert_file`);
  const key = stringAt(o.key_file, `${field}.key_file`);
  if (skip !== undefined) t.insecureSkipVerify = skip;
  if (ca) t.caFile = ca;
  if (cert) t.certFile = cert;
  if (key) t.keyFile = key;
  if (t.keyFile && !t.certFile) throw invalid(field, 'key_file without cert_file');
  return Object.keys(t).length ? t : undefined;
}

/** Validates a parsed registries.yaml document. */
export function registriesFromObject(doc: unknown): RegistriesConfig {
  const out = emptyRegistries();
  if (doc === undefined || doc === null) return out; // an empty file configures nothing, as in k3s
  const root = mapAt(doc, '(top level)');
  checkKeys(root, '', ['mirrors', 'configs']);
  for (const [name, m] of Object.entries(mapAt(root.mirrors, 'mirrors'))) {
    const field = `mirrors.${name}`;
    checkHost(name, field);
    const mo = mapAt(m, field);
    checkKeys(mo, field, ['endpoint', 'rewrite']);
    let eps: unknown = mo.endpoint;
    if (typeof eps === 'string') eps = [eps]; // a single endpoint written as a scalar
    if (eps !== undefined && eps !== null && !Array.isArray(eps)) throw invalid(`${field}.endpoint`, `must be a list of URLs, not ${typeName(eps)}`);
    const endpoints = ((eps as unknown[] | undefined | null) ?? []).map((e, i) => {
      const s = stringAt(e, `${field}.endpoint[${i}]`);
      if (!s) throw invalid(`${field}.endpoint[${i}]`, 'must be a non-empty URL');
      return normalizeEndpoint(s, `${field}.endpoint[${i}]`);
    });
    if (mo.rewrite !== undefined && mo.rewrite !== null) {
      mapAt(mo.rewrite, `${field}.rewrite`);
      // containerd 1.6's hosts.toml has no rewrites (k3s patches its own containerd for them).
      out.warnings.push(`registries.yaml: ${field}.rewrite is not supported by this containerd and is ignored`);
    }
    out.mirrors[name] = { endpoints: [...new Set(endpoints)] };
  }
  for (const [host, c] of Object.entries(mapAt(root.configs, 'configs'))) {
    const field = `configs.${host}`;
    checkHost(host, field);
    const co = mapAt(c, field);
    checkKeys(co, field, ['auth', 'tls']);
    const hc: RegistryHostConfig = {};
    const auth = parseAuth(co.auth, `${field}.auth`);
    const tls = parseTls(co.tls, `${field}.tls`);
    if (auth) hc.auth = auth;
    if (tls) hc.tls = tls;
    out.configs[host] = hc;
  }
  return out;
}

// yaml is loaded on first use: most nodes have no registries.yaml, and the agent's start-up is shorter
// without yaml's 72 modules.
let yamlModule: typeof import('yaml') | undefined;

/** Parses the text of a registries.yaml. `source` names the file in error messages. */
export function parseRegistries(text: string, source = 'registries.yaml'): RegistriesConfig {
  yamlModule ??= createRequire(import.meta.url)('yaml') as typeof import('yaml');
  const { LineCounter, parseDocument } = yamlModule;
  const lines = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, lineCounter: lines });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const pos = lines.linePos(e.pos[0]);
    const where = ` (line ${pos.line}, column ${pos.col})`;
    throw new RegistryConfigError('ERR_REGISTRY_CONFIG_YAML', `${source}: not valid YAML${where}: ${e.message.split('\n')[0]}`);
  }
  try {
    return registriesFromObject(doc.toJS({ maxAliasCount: 100 }));
  } catch (err) {
    if (err instanceof RegistryConfigError) {
      throw new RegistryConfigError(err.code, err.message.replace(/^registries\.yaml:/, `${source}:`), err.field);
    }
    throw new RegistryConfigError('ERR_REGISTRY_CONFIG_YAML', `${source}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * Reads a registries.yaml. A missing file is undefined when `optional` (the agent's default path
 * may not exist), else an error: a path the user named must exist.
 */
export async function loadRegistries(file: string, opts: { optional?: boolean } = {}): Promise<RegistriesConfig | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && opts.optional) return undefined;
    throw new RegistryConfigError('ERR_REGISTRY_CONFIG_READ', `cannot read registry config ${file}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  return parseRegistries(text, file);
}
