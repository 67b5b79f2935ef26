// Which credentials go with a CRI PullImage, as the kubelet chooses them: credentials from the pod's
// imagePullSecrets first, then the node's (registries.yaml `configs.<host>.auth`); the puller tries
// each candidate in turn until one pull succeeds (../images/puller.ts).
//
// Node credentials are offered per endpoint containerd will contact (mirrors first, then the
// registry itself, see ./endpoints.ts), each with `serverAddress` set to that endpoint, because
// containerd's CRI hands an AuthConfig's credentials only to the host its server_address names: a
// mirror's password never reaches another host. Secret credentials go without a server address, as
// the kubelet sends them, so they reach whichever host serves the registry (registry-1.docker.io for
// "docker.io" keys, or a mirror).
//
// Pure; called by the pod workers before each pull.
import type { Secret } from '../../../api/types.ts';
import type { AuthConfig } from '../../runtime/runtime.ts';
import { parseImageReference } from '../reference.ts';
import type { RegistriesConfig, RegistryAuth } from './config.ts';
import { hostConfigFor, resolveEndpoints, type Endpoint } from './endpoints.ts';
import { DockerKeyring, type DockerCredential } from './keyring.ts';

function toAuthConfig(a: RegistryAuth, ep: Endpoint): AuthConfig {
  const out: AuthConfig = { serverAddress: `${ep.scheme}://${ep.host}` };
  if (a.username !== undefined) out.username = a.username;
  if (a.password !== undefined) out.password = a.password;
  if (a.auth !== undefined) out.auth = a.auth;
  if (a.identityToken !== undefined) out.identityToken = a.identityToken;
  return out;
}

function registryOf(image: string): string | undefined {
  try {
    return parseImageReference(image).domain;
  } catch {
    return undefined; // the puller reports InvalidImageName; no credentials to find
  }
}

/** Node credentials for an image: one per endpoint with an `auth` in registries.yaml, in the order containerd tries them. */
export function nodeAuths(config: RegistriesConfig | undefined, image: string): AuthConfig[] {
  const registry = registryOf(image);
  if (!config || registry === undefined) return [];
  const out: AuthConfig[] = [];
  for (const ep of resolveEndpoints(config, registry)) {
    const auth = hostConfigFor(config, registry, ep)?.auth;
    if (auth) out.push(toAuthConfig(auth, ep));
  }
  return out;
}

/** The node credentials containerd would use first for an image, or undefined for an anonymous pull. */
export function authFor(config: RegistriesConfig | undefined, image: string): AuthConfig | undefined {
  return nodeAuths(config, image)[0];
}

function secretAuth(c: DockerCredential): AuthConfig {
  return { username: c.username, password: c.password };
}

export interface PullAuthSources {
  /** The pod's imagePullSecrets that could be read (missing ones are the caller's event to write). */
  secrets?: readonly Secret[];
  registries?: RegistriesConfig;
}

function same(a: AuthConfig, b: AuthConfig): boolean {
  return a.username === b.username && a.password === b.password && a.auth === b.auth && a.identityToken === b.identityToken && a.serverAddress === b.serverAddress;
}

/**
 * Candidate credentials for pulling `image`, in the kubelet's order: matching pull-secret entries
 * (most specific key first), then node credentials. Empty means: pull anonymously, once.
 * Throws PullSecretError (ERR_PULL_SECRET_INVALID) for a docker config secret whose JSON is broken,
 * which fails the pull as it does in the kubelet.
 */
export function resolvePullAuth(image: string, sources: PullAuthSources): AuthConfig[] {
  const out: AuthConfig[] = [];
  const push = (a: AuthConfig) => {
    if (!out.some((b) => same(a, b))) out.push(a);
  };
  if (sources.secrets && sources.secrets.length > 0 && registryOf(image) !== undefined) {
    for (const c of DockerKeyring.fromSecrets(sources.secrets).lookup(image)) push(secretAuth(c));
  }
  for (const a of nodeAuths(sources.registries, image)) push(a);
  return out;
}
