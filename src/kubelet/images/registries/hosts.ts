// registries.yaml → containerd hosts.toml files, one directory per registry under the containerd's
// `config_path` (`<dir>/<registry>/hosts.toml`; `<dir>/_default/hosts.toml` for the "*" mirror).
// containerd re-reads these on every pull, so rewriting them needs no containerd restart.
//
// hosts.toml in containerd 1.6 has no place for credentials: those travel with each CRI PullImage
// (./auth.ts). Mirrors, plain-HTTP endpoints and TLS (CA, client certificate, skip-verify) are here.
//
// Called by the agent at start-up (and whenever it reloads registries.yaml); not concurrently for one
// dir. Idempotent: the same config writes the same bytes; directories we wrote earlier for
// registries no longer configured are removed, directories we did not write are left alone.
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RegistriesConfig, RegistryTls } from './config.ts';
import { hostConfigFor, resolveHosts } from './endpoints.ts';

/** First line of every file we write; how we recognise our own directories when cleaning up. */
export const HOSTS_TOML_MARKER = '# Written by tinykube from registries.yaml; rewritten at every agent start.';

/** The directory name containerd looks up for a registry ("*" is containerd's `_default`). */
export function hostsDirName(registry: string): string {
  return registry === '*' ? '_default' : registry;
}

/** A TOML basic string; JSON's escapes are a subset TOML accepts. */
function q(s: string): string {
  return JSON.stringify(s);
}

function tlsLines(tls: RegistryTls | undefined, indent: string): string[] {
  if (!tls) return [];
  const out: string[] = [];
  if (tls.caFile) out.push(`${indent}ca = ${q(tls.caFile)}`);
  // A pair of files, or one file holding both when no key_file is given.
  if (tls.certFile) out.push(`${indent}client = ${tls.keyFile ? `[[${q(tls.certFile)}, ${q(tls.keyFile)}]]` : q(tls.certFile)}`);
  if (tls.insecureSkipVerify !== undefined) out.push(`${indent}skip_verify = ${tls.insecureSkipVerify}`);
  return out;
}

/**
 * The hosts.toml for one registry name (a mirrors or configs key, or "*"). The registry's own
 * endpoint is the `server` (tried last, as containerd always does); mirrors come first, in order,
 * allowed to pull and resolve but never push.
 */
export function renderHostsToml(config: RegistriesConfig, registry: string): string {
  const { mirrors, server } = resolveHosts(config, registry);
  const lines = [HOSTS_TOML_MARKER];
  // For "*" the server depends on the image's registry, which containerd fills in itself.
  if (registry !== '*') {
    lines.push(`server = ${q(server.url)}`);
    lines.push(...tlsLines(hostConfigFor(config, registry, server)?.tls, ''));
  }
  for (const m of mirrors) {
    lines.push('', `[host.${q(m.url)}]`, '  capabilities = ["pull", "resolve"]');
    lines.push(...tlsLines(hostConfigFor(config, registry, m)?.tls, '  '));
  }
  return lines.join('\n') + '\n';
}

/**
 * Every registry that needs a directory: each mirrored registry, and each configured host (so TLS
 * settings apply when an image names that host directly).
 */
export function hostsFiles(config: RegistriesConfig): Map<string, string> {
  const names = new Set([...Object.keys(config.mirrors), ...Object.keys(config.configs)]);
  const files = new Map<string, string>();
  for (const name of [...names].sort()) {
    // A configs-only host with nothing to say (auth only, no TLS, no mirror) needs no file; with a
    // "*" mirror it does, or its own directory would hide _default from it.
    const hasTls = Boolean(config.configs[name]?.tls);
    if (!config.mirrors[name] && !hasTls && !config.mirrors['*']) continue;
    files.set(hostsDirName(name), renderHostsToml(config, name));
  }
  return files;
}

export interface WriteHostsResult {
  /** Directory names written (or rewritten). */
  written: string[];
  /** Directory names of ours removed because the config no longer names them. */
  removed: string[];
}

/** Writes the hosts.toml tree for `config` into `dir` (containerd's registry config_path). */
export async function writeHostsDir(config: RegistriesConfig, dir: string): Promise<WriteHostsResult> {
  await mkdir(dir, { recursive: true });
  const files = hostsFiles(config);
  const written: string[] = [];
  for (const [name, text] of files) {
    const d = join(dir, name);
    await mkdir(d, { recursive: true });
    const target = join(d, 'hosts.toml');
    const old = await readFile(target, 'utf8').catch(() => undefined);
    if (old === text) continue;
    // containerd may read the file during a pull at any moment: never let it see half a file.
    const tmp = `${target}.${process.pid}.tmp`;
    await writeFile(tmp, text, { mode: 0o644 });
    await rename(tmp, target);
    written.push(name);
  }
  const removed: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (!e.isDirectory() || files.has(e.name)) continue;
    const text = await readFile(join(dir, e.name, 'hosts.toml'), 'utf8').catch(() => '');
    if (!text.startsWith(HOSTS_TOML_MARKER)) continue; // someone else's (e.g. a user's certs.d entry)
    await rm(join(dir, e.name), { recursive: true, force: true });
    removed.push(e.name);
  }
  return { written, removed };
}
