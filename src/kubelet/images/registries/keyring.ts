// imagePullSecrets: credentials from `kubernetes.io/dockerconfigjson` (and the legacy
// `kubernetes.io/dockercfg`) secrets, matched to an image the way the kubelet's credential keyring
// matches them (pkg/credentialprovider/keyring.go):
//   - a key is a schemeless URL: "registry:5000", "https://index.docker.io/v1/", "*.example.com/team";
//     a leading "/v1/" or "/v2/" path means the host itself;
//   - a key matches an image when the ports are equal, the host has as many dot-separated parts as
//     the image's and each part glob-matches (`*` within one part), and the key's path is a string
//     prefix of the image's repository path;
//   - more specific keys first (keys sorted in reverse), every matching key contributes;
//   - nothing matched and the image is on Docker Hub: the entry for "index.docker.io" applies.
// Secrets of another type, or without their key, are ignored as the kubelet does; a secret whose
// JSON cannot be read is an error, as it fails the kubelet's pull.
//
// Pure. Called by resolvePullAuth (./auth.ts) once per pull.
import type { Secret } from '../../../api/types.ts';
import { parseImageReference } from '../reference.ts';

export const SECRET_TYPE_DOCKER_CONFIG_JSON = 'kubernetes.io/dockerconfigjson';
export const SECRET_TYPE_DOCKERCFG = 'kubernetes.io/dockercfg';

export class PullSecretError extends Error {
  readonly code = 'ERR_PULL_SECRET_INVALID';
  /** "namespace/name" of the secret. */
  readonly secret: string;
  constructor(secret: string, message: string) {
    super(`image pull secret ${secret}: ${message}`);
    this.name = 'PullSecretError';
    this.secret = secret;
  }
}

export interface DockerCredential {
  username: string;
  password: string;
  email?: string;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * One entry of a docker config. `auth` (base64 "user:password") wins over username/password when
 * present, as in the kubelet's DockerConfigEntry decoding.
 */
function parseEntry(v: unknown, where: string, key: string): DockerCredential {
  if (!isObj(v)) throw new PullSecretError(where, `entry "${key}" is not an object`);
  const str = (f: string): string => {
    const x = v[f];
    if (x === undefined || x === null) return '';
    if (typeof x !== 'string') throw new PullSecretError(where, `entry "${key}": ${f} is not a string`);
    return x;
  };
  const cred: DockerCredential = { username: str('username'), password: str('password') };
  const email = str('email');
  if (email) cred.email = email;
  const auth = str('auth');
  if (auth) {
    const decoded = /^[A-Za-z0-9+/]*={0,2}$/.test(auth) ? Buffer.from(auth, 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new PullSecretError(where, `entry "${key}": auth must be base64 of "username:password"`);
    cred.username = decoded.slice(0, colon);
    cred.password = decoded.slice(colon + 1).replace(/\0+$/, '');
  }
  return cred;
}

/** Registry key → credentials, as the secret's docker config holds them; undefined for other secrets. */
export function dockerConfigFromSecret(secret: Secret): Map<string, DockerCredential> | undefined {
  const where = `${secret.metadata?.namespace ?? ''}/${secret.metadata?.name ?? ''}`;
  let field: string;
  if (secret.type === SECRET_TYPE_DOCKER_CONFIG_JSON) field = '.dockerconfigjson';
  else if (secret.type === SECRET_TYPE_DOCKERCFG) field = '.dockercfg';
  else return undefined;
  const b64 = secret.data?.[field];
  if (!b64) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(b64, 'base64').toString('utf8'));
  } catch (err) {
    throw new PullSecretError(where, `${field} is not JSON: ${(err as Error).message}`);
  }
  if (!isObj(doc)) throw new PullSecretError(where, `${field} is not a JSON object`);
  let auths: unknown = doc;
  if (field === '.dockerconfigjson') {
    auths = doc.auths ?? {};
    if (!isObj(auths)) throw new PullSecretError(where, `${field}: "auths" is not an object`);
  }
  const out = new Map<string, DockerCredential>();
  for (const [k, v] of Object.entries(auths as Obj)) out.set(k, parseEntry(v, where, k));
  return out;
}

interface SchemelessUrl {
  host: string;
  path: string;
}

/** The kubelet's parseSchemelessURL without Go's url.Parse: host up to the first "/", then the path. */
function parseSchemeless(s: string): SchemelessUrl {
  const rest = s.replace(/^https?:\/\//, '');
  const slash = rest.indexOf('/');
  return slash < 0 ? { host: rest, path: '' } : { host: rest.slice(0, slash), path: rest.slice(slash) };
}

/** The keyring key for a docker config key: "https://index.docker.io/v1/" → "index.docker.io". */
export function keyringKey(loc: string): string {
  const u = parseSchemeless(loc);
  let path = u.path;
  if (path.startsWith('/v2/') || path.startsWith('/v1/')) path = path.slice(3);
  return path.length > 0 && path !== '/' ? u.host + path : u.host;
}

function splitHost(host: string): { parts: string[]; port: string } {
  const m = /^(.*):(\d*)$/.exec(host);
  const h = m && !m[1].includes(':') ? m[1] : host;
  return { parts: h.split('.'), port: m && !m[1].includes(':') ? m[2] : '' };
}

const globCache = new Map<string, RegExp | null>();

/** Go's filepath.Match for one host label: `*`, `?`, `[...]` classes; a bad pattern matches nothing. */
function globPart(pattern: string): RegExp | null {
  let re = globCache.get(pattern);
  if (re !== undefined) return re;
  let src = '';
  let ok = true;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') src += '[^/]*';
    else if (c === '?') src += '[^/]';
    else if (c === '\\' && i + 1 < pattern.length) src += '\\' + pattern[++i];
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) {
        ok = false;
        break;
      }
      const body = pattern.slice(i + 1, end).replace(/\\/g, '\\\\');
      src += '[' + (body.startsWith('^') ? '^' + body.slice(1) : body) + ']';
      i = end;
    } else src += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  try {
    re = ok ? new RegExp(`^${src}$`) : null;
  } catch {
    re = null;
  }
  globCache.set(pattern, re);
  return re;
}

/** The kubelet's URLsMatch: glob host labels, equal ports, key path a prefix of the image's path. */
export function keyMatchesImage(key: string, image: string): boolean {
  const g = parseSchemeless(key);
  const t = parseSchemeless(image);
  const gh = splitHost(g.host);
  const th = splitHost(t.host);
  if (gh.port !== th.port || gh.parts.length !== th.parts.length) return false;
  if (!t.path.startsWith(g.path)) return false;
  return gh.parts.every((p, i) => globPart(p)?.test(th.parts[i]) ?? false);
}

const DEFAULT_REGISTRY_KEY = 'index.docker.io';

/** The repository an image pulls from, as the kubelet looks it up: "docker.io/library/busybox". */
export function repositoryOf(image: string): string {
  const r = parseImageReference(image);
  return `${r.domain}/${r.path}`;
}

/** Credentials from several secrets, in one keyring (the kubelet merges all of a pod's pull secrets). */
export class DockerKeyring {
  readonly #creds = new Map<string, DockerCredential[]>();
  #index: string[] = [];

  add(config: Map<string, DockerCredential>): void {
    for (const [loc, cred] of config) {
      const key = keyringKey(loc);
      const list = this.#creds.get(key) ?? [];
      list.push(cred);
      this.#creds.set(key, list);
    }
    // Reverse order puts "quay.io/team" before "quay.io": the more specific key is tried first.
    this.#index = [...this.#creds.keys()].sort().reverse();
  }

  get size(): number {
    return this.#creds.size;
  }

  /** Every credential that applies to an image, most specific key first. */
  lookup(image: string): DockerCredential[] {
    const repo = repositoryOf(image);
    const out: DockerCredential[] = [];
    for (const k of this.#index) if (keyMatchesImage(k, repo)) out.push(...this.#creds.get(k)!);
    if (out.length > 0) return out;
    // Images normalised to docker.io come from Docker Hub, whose docker config key is index.docker.io.
    if (repo.startsWith('docker.io/')) return [...(this.#creds.get(DEFAULT_REGISTRY_KEY) ?? [])];
    return [];
  }

  static fromSecrets(secrets: readonly Secret[]): DockerKeyring {
    const k = new DockerKeyring();
    for (const s of secrets) {
      const cfg = dockerConfigFromSecret(s);
      if (cfg) k.add(cfg);
    }
    return k;
  }
}
