// The cluster DNS address on a node: the `kube-system/kube-dns` ClusterIP is put on a dummy link of the
// node's own, and the node's DNS server binds it, as NodeLocal DNSCache does with its link. Pods reach
// it through their default route (the bridge gateway is this node), and so do the node's own
// processes; no endpoint and no DNAT is involved, and each node answers its own pods. The kube-dns
// Service carries `service.kubernetes.io/service-proxy-name` so the node proxy leaves it alone (the
// label Kubernetes defines for a Service that another proxy serves).
import { execFile } from 'node:child_process';

/** The link's name (at most 15 bytes, the kernel's IFNAMSIZ). */
export const DNS_LINK = 'tinykube-dns';

interface Run {
  code: number;
  stderr: string;
}

function ip(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile('ip', args, (err, _stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 127) : 0, stderr: String(stderr).trim() });
    });
  });
}

/**
 * Makes `address`/32 local on the node on DNS_LINK (created when missing; an address already there is
 * kept, so a restarted agent carries on). Throws with ip(8)'s words when the kernel refuses.
 */
export async function ensureDnsAddress(address: string, link = DNS_LINK): Promise<void> {
  let add = await ip(['link', 'add', link, 'type', 'dummy']);
  // Kernels built without the dummy driver (these machines' among them) get a bridge without ports:
  // it is as inert, and local delivery to its address works the same.
  if (add.code !== 0 && /Unknown device type/.test(add.stderr)) add = await ip(['link', 'add', link, 'type', 'bridge']);
  if (add.code !== 0 && !/File exists/.test(add.stderr)) throw new Error(`cannot create the DNS link ${link}: ${add.stderr}`);
  const addr = await ip(['addr', 'replace', `${address}/32`, 'dev', link]);
  if (addr.code !== 0) throw new Error(`cannot put ${address} on ${link}: ${addr.stderr}`);
  const up = await ip(['link', 'set', link, 'up']);
  if (up.code !== 0) throw new Error(`cannot bring ${link} up: ${up.stderr}`);
}

/** Removes the link and with it the address. Idempotent. */
export async function removeDnsAddress(link = DNS_LINK): Promise<void> {
  const r = await ip(['link', 'del', link]);
  if (r.code !== 0 && !/Cannot find device|does not exist/.test(r.stderr)) throw new Error(`cannot remove the DNS link ${link}: ${r.stderr}`);
}
