// The CNI portmap plugin's node-wide iptables chains, for e2e tests that use hostPort: portmap makes
// them on first use and never removes them (every network on the machine shares them), so a test that
// made them removes them once no pod uses them.
import { execFile } from 'node:child_process';

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
