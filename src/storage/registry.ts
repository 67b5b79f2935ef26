// Storage drivers by name: the one place that knows which backends exist.
//
// Callers: src/cmd (once at start-up, from --store). A spec is "DRIVER:LOCATION"
// ("sqlite:/var/lib/tinykube/state.db", "etcd:https://10.0.0.1:2379,https://10.0.0.2:2379");
// a spec without a known driver prefix is a SQLite path, the embedded default.

import type { Backend } from './backend.ts';
import { StorageError } from './errors.ts';
import { openSqliteBackend } from './sqlite/sqlite-backend.ts';

/** Opens a backend at the driver-specific location (a path, a list of URLs). */
export type BackendOpener = (location: string) => Promise<Backend>;

export const DEFAULT_DRIVER = 'sqlite';

const drivers: ReadonlyMap<string, BackendOpener> = new Map<string, BackendOpener>([
  ['sqlite', async (location) => openSqliteBackend(location)],
  // Loaded on use: the etcd client costs ~35 MB and ~80 ms at start-up that SQLite users never need.
  ['etcd', async (location) => (await import('./etcd/etcd-backend.ts')).openEtcdLocation(location)],
]);

export class BackendSpecError extends StorageError {
  constructor(message: string) {
    super('ERR_STORAGE_BAD_SPEC', '', message);
  }
}

export interface BackendSpec {
  driver: string;
  location: string;
}

/** The registered driver names, for help texts and error messages. */
export function backendDrivers(): string[] {
  return [...drivers.keys()];
}

export function parseBackendSpec(spec: string): BackendSpec {
  // A driver name is a lowercase word of two letters or more; a path may hold colons elsewhere
  // (":memory:", "C:\x"), so only that shape is read as a driver, and an unknown one is an error
  // rather than a SQLite file named "etcd3:...".
  const m = /^([a-z][a-z0-9]+):(.*)$/s.exec(spec);
  if (!m) return { driver: DEFAULT_DRIVER, location: spec };
  if (!drivers.has(m[1])) {
    throw new BackendSpecError(`unknown storage driver "${m[1]}" in "${spec}" (known: ${backendDrivers().join(', ')})`);
  }
  return { driver: m[1], location: m[2] };
}

export async function openBackend(spec: string): Promise<Backend> {
  const { driver, location } = parseBackendSpec(spec);
  if (location === '') throw new BackendSpecError(`storage spec "${spec}" has no location`);
  return drivers.get(driver)!(location);
}
