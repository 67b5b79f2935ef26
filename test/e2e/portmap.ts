// The CNI portmap plugin's node-wide iptables chains, for e2e tests that use hostPort: portmap makes
// them on first use and never removes them (every network on the machine shares them), so a test that
// made them removes them once no pod uses them.
import { execFile } from 'node:child_process';
import { after, before } from 'node:test';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { startCluster, type Cluster } from './harness.ts';

function sh(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => execFile(cmd, args, (err, stdout, stderr) => (err ? reject(new Error(`${cmd}: ${stderr}`)) : resolve(stdout))));
}

export const natTable = (): Promise<string> => sh('iptables-save', ['-t', 'nat']);

export async function portmapChainsExist(): Promise<boolean> {
  return /^:CNI-HOSTPORT-DNAT /m.test(await natTable());
}

/** Removes portmap's chains unless some pod's DNAT rule still uses them. */
export async function removePortmapChains(): Promise<void> {
  if (/^-A CNI-HOSTPORT-DNAT /m.test(await natTable())) return;
  const ipt = (...args: string[]) => sh('iptables', ['-w', '-t', 'nat', ...args]).catch(() => '');
  await ipt('-D', 'PREROUTING', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'CNI-HOSTPORT-DNAT');
  await ipt('-D', 'OUTPUT', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'CNI-HOSTPORT-DNAT');
  await ipt('-D', 'POSTROUTING', '-m', 'comment', '--comment', 'CNI portfwd requiring masquerade', '-j', 'CNI-HOSTPORT-MASQ');
  for (const chain of ['CNI-HOSTPORT-DNAT', 'CNI-HOSTPORT-SETMARK', 'CNI-HOSTPORT-MASQ']) {
    await ipt('-F', chain);
    await ipt('-X', chain);
  }
}

/**
 * A `tinykube up` cluster for this test file's hostPort pods, started before its tests and stopped
 * after them, with portmap's chains removed afterwards if this file made them. Read `.cluster` in tests;
 * `until` polls what kubectl or iptables show (nothing there pushes "the agent finished"), failing with
 * the cluster's last log lines.
 */
export function hostPortCluster(node: string): {
  readonly cluster: Cluster;
  until<T>(what: string, fn: () => Promise<T | undefined | false>, ms?: number): Promise<T>;
} {
  let cluster: Cluster | undefined;
  let hadChains = true;
  before(async () => {
    hadChains = await portmapChainsExist();
    cluster = await startCluster({ command: 'up', args: ['--name', node] });
  });
  after(async () => {
    await cluster?.stop();
    if (!hadChains) await removePortmapChains();
  });
  return {
    get cluster(): Cluster {
      if (!cluster) throw new Error('the cluster is not started yet');
      return cluster;
    },
    async until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 60_000): Promise<T> {
      const end = Date.now() + ms;
      for (;;) {
        const v = await fn();
        if (v !== undefined && v !== false) return v;
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${this.cluster.logs().slice(-4000)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    },
  };
}

/** A port nothing listens on now (bound on port 0 and closed). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
