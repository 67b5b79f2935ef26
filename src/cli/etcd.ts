// `tinykube server`'s managed etcd flags (k3s' --cluster-init, --server, --token-file) and the
// `tinykube etcd` command: the members and their health, and removal of one (etcdctl member
// list / member remove, with the data dir's etcd client certificate).

import { readFile } from 'node:fs/promises';
import type { Command } from './main.ts';
import { defaultDataDir } from './paths.ts';
import { etcdPackages, installPackages, missingPackages } from './hostdeps.ts';
import { Progress } from './progress.ts';
import { defaultAdvertiseAddress, parseListen } from '../cmd/listen.ts';
import type { ManagedEtcd } from '../cmd/etcd-cluster.ts';
import { hasManagedEtcd } from '../cmd/etcd-paths.ts';

export const managedEtcdFlags = {
  'cluster-init': { type: 'boolean' },
  server: { type: 'string' },
  'token-file': { type: 'string' },
  'etcd-client-port': { type: 'string' },
  'etcd-peer-port': { type: 'string' },
  'etcd-name': { type: 'string' },
} as const;

/**
 * The server's managed etcd member when the flags ask for one, or the data dir already holds one
 * (a restart needs no flag, as with k3s); undefined for the --store backends.
 */
export async function startManagedEtcdFromFlags(values: Record<string, unknown>, dataDir: string): Promise<ManagedEtcd | undefined> {
  const init = values['cluster-init'] === true;
  const server = values.server as string | undefined;
  if (!init && server === undefined && !hasManagedEtcd(dataDir)) return undefined;
  const etcd = await import('../cmd/etcd-cluster.ts');
  if (init && server !== undefined) throw new Error('--cluster-init starts a new cluster and --server joins one: give one of them');
  if (values.store !== undefined) throw new Error('--store and the managed etcd (--cluster-init, --server) exclude each other');
  let join: { server: string; token: string } | undefined;
  if (server !== undefined) {
    const file = values['token-file'] as string | undefined;
    if (!file) throw new Error('--server needs --token-file (the server token, <data-dir>/server-token of a server)');
    join = { server, token: (await readFile(file, 'utf8')).trim() };
  }
  const missing = missingPackages(etcdPackages);
  if (missing.length) await new Progress({}).step(`installing ${missing.join(', ')}`, (h) => installPackages(missing, h));
  const port = (name: string, dflt: number): number => {
    const v = values[name] as string | undefined;
    if (v === undefined) return dflt;
    if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 65535) throw new Error(`--${name} ${JSON.stringify(v)}: must be a port number`);
    return Number(v);
  };
  // The member's URLs name the address other servers reach this one at: the advertise address,
  // else the listen host unless it is a wildcard, else the host's first routable address.
  const listenHost = parseListen((values.listen as string | undefined) ?? '127.0.0.1:6443').host;
  const wildcard = listenHost === '0.0.0.0' || listenHost === '::';
  const host = (values['advertise-address'] as string | undefined) ?? (wildcard ? defaultAdvertiseAddress(listenHost) : listenHost) ?? '127.0.0.1';
  return etcd.startManagedEtcd({
    dataDir,
    host,
    clientPort: port('etcd-client-port', etcd.DEFAULT_ETCD_CLIENT_PORT),
    peerPort: port('etcd-peer-port', etcd.DEFAULT_ETCD_PEER_PORT),
    name: values['etcd-name'] as string | undefined,
    init,
    join,
  });
}

export const etcdCommand: Command = {
  summary: 'the managed etcd members: `members`, `remove-member NAME` (run on a server)',
  options: { 'data-dir': { type: 'string' } },
  allowPositionals: true,
  async run(values, positionals) {
    const dataDir = (values['data-dir'] as string | undefined) ?? defaultDataDir();
    const etcd = await import('../cmd/etcd-cluster.ts');
    const [sub, name, ...rest] = positionals;
    if (sub === 'members' && name === undefined) {
      const list = await etcd.listMembers(dataDir);
      const rows = [['NAME', 'ID', 'PEER URL', 'CLIENT URL', 'HEALTH'], ...list.map((m) => [m.name || '(unstarted)', BigInt(m.id).toString(16), m.peerURL, m.clientURL || '<none>', m.healthy ? 'healthy' : `unhealthy: ${m.reason}`])];
      const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
      for (const r of rows) console.log(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] + 3))).join(''));
      return list.every((m) => m.healthy) ? 0 : 1;
    }
    if (sub === 'remove-member' && name !== undefined && rest.length === 0) {
      const m = await etcd.removeMember(dataDir, name);
      console.log(`removed etcd member ${m.name || name} (${BigInt(m.id).toString(16)}, ${m.peerURL})`);
      return 0;
    }
    console.error('usage: tinykube etcd members | remove-member NAME [--data-dir DIR]');
    return 2;
  },
};
