// Which endpoints containerd (1.6, CRI with `config_path`) contacts for a registry, in order, given
// the hosts.toml files ./hosts.ts writes: the mirror endpoints of the registry (or of "*" when the
// registry has none), then the registry's default endpoint, always tried last (k3s documents the
// same fallback). The hosts.toml writer and the credential resolver both read this one model, so
// credentials are offered to exactly the hosts containerd will contact. Pure.
import type { RegistriesConfig } from './config.ts';

export interface Endpoint {
  scheme: 'http' | 'https';
  /** host[:port] as containerd compares it when choosing credentials. */
  host: string;
  /** API root path without the "/v2" containerd appends ("" for the host's root). */
  path: string;
  /** scheme://host[/path], as written in hosts.toml. */
  url: string;
  /** The registry's own endpoint (containerd's `server`), as opposed to a mirror. */
  isDefault: boolean;
}

/** The registry host containerd contacts for Docker Hub images. */
export const DOCKER_HUB_HOST = 'registry-1.docker.io';

/** containerd's docker.IsLocalhost: "localhost", 127.0.0.0/8 and ::1, with or without a port. */
export function isLocalhost(host: string): boolean {
  const h = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

function portOf(host: string): string {
  const m = /:(\d+)$/.exec(host.startsWith('[') ? host.slice(host.indexOf(']') + 1) : host);
  return m ? m[1] : '';
}

/**
 * The endpoint containerd uses when nothing else is configured: Docker Hub's API host for
 * docker.io; plain HTTP for a localhost registry on a port other than 443 (containerd's fallback
 * for ambiguous local registries); HTTPS otherwise.
 */
export function defaultEndpoint(registry: string): Endpoint {
  if (registry === 'docker.io') return { scheme: 'https', host: DOCKER_HUB_HOST, path: '', url: `https://${DOCKER_HUB_HOST}`, isDefault: true };
  const port = portOf(registry);
  const scheme = isLocalhost(registry) && port !== '' && port !== '443' ? 'http' : 'https';
  return { scheme, host: registry, path: '', url: `${scheme}://${registry}`, isDefault: true };
}

/** Parses a normalised endpoint URL (see normalizeEndpoint). */
export function parseEndpoint(url: string, isDefault = false): Endpoint {
  const m = /^(https?):\/\/([^/]+)(\/.*)?$/.exec(url);
  if (!m) throw new Error(`not an endpoint URL: ${url}`);
  return { scheme: m[1] as 'http' | 'https', host: m[2], path: m[3] ?? '', url, isDefault };
}

/** The mirror entry that applies to a registry: its own, else the "*" wildcard, else none. */
export function mirrorFor(config: RegistriesConfig, registry: string): { key: string; endpoints: string[] } | undefined {
  const own = config.mirrors[registry];
  if (own) return { key: registry, endpoints: own.endpoints };
  const wildcard = config.mirrors['*'];
  return wildcard ? { key: '*', endpoints: wildcard.endpoints } : undefined;
}

export interface ResolvedHosts {
  /** Mirrors in the order containerd tries them (each written as a [host."..."] table). */
  mirrors: Endpoint[];
  /** Tried last (hosts.toml's `server`). A mirror on the registry's own host replaces it. */
  server: Endpoint;
}

/**
 * The endpoints for `registry`. A last mirror endpoint on the default endpoint's host (the k3s idiom
 * `mirrors: {"reg:5000": {endpoint: ["http://reg:5000"]}}` for a plain-HTTP registry) becomes the
 * server instead of being tried twice with two schemes.
 */
export function resolveHosts(config: RegistriesConfig, registry: string): ResolvedHosts {
  const def = defaultEndpoint(registry);
  const mirrors = (mirrorFor(config, registry)?.endpoints ?? []).map((u) => parseEndpoint(u));
  const last = mirrors[mirrors.length - 1];
  if (last && last.host === def.host) {
    mirrors.pop();
    return { mirrors, server: { ...last, isDefault: true } };
  }
  return { mirrors, server: def };
}

/** Every endpoint containerd may contact for `registry`, in order. */
export function resolveEndpoints(config: RegistriesConfig, registry: string): Endpoint[] {
  const r = resolveHosts(config, registry);
  return [...r.mirrors, r.server];
}

/**
 * The `configs` entry for an endpoint: by its host, and for a registry's default endpoint also by
 * the registry's name (so `configs: {docker.io: ...}` reaches registry-1.docker.io, as users write it).
 */
export function hostConfigFor(config: RegistriesConfig, registry: string, ep: Endpoint) {
  return config.configs[ep.host] ?? (ep.isDefault ? config.configs[registry] : undefined);
}
