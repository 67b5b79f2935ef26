// A pretend kernel behind the NetExec seam, for unit tests of the overlay's loop: it answers the
// commands the overlay runs (the JSON of `ip -j`/`bridge -j`, and the changes) from maps, records
// every command, and can be told to fail a command. Test-only; it knows only what the overlay sends.
import type { ExecResult, NetExec } from './exec.ts';

const OK: ExecResult = { code: 0, stdout: '', stderr: '' };

export class FakeKernel implements NetExec {
  readonly netns = undefined;
  readonly ran: string[][] = [];
  /** The link holding the node IP. */
  parent = { name: 'eth0', ip: '10.0.0.1', mtu: 1500 };
  device: { mtu: number; address: string; addrs: Set<string>; id: number; local: string; link: string; up: boolean } | undefined;
  readonly routes = new Map<string, { gateway: string; dev?: string; onlink: boolean }>();
  readonly neighs = new Map<string, string>();
  readonly fdb = new Map<string, string>();
  /** A command whose argv joined with spaces includes this fails (once per entry). */
  readonly failOnce: string[] = [];

  /** The mutating commands run so far (reads left out). */
  changes(): string[] {
    return this.ran.map((c) => c.join(' ')).filter((c) => !/ -j |^sysctl|^ethtool/.test(c));
  }

  async run(argv: readonly string[]): Promise<ExecResult> {
    this.ran.push([...argv]);
    const line = argv.join(' ');
    const i = this.failOnce.findIndex((f) => line.includes(f));
    if (i >= 0) {
      this.failOnce.splice(i, 1);
      return { code: 2, stdout: '', stderr: 'RTNETLINK answers: Operation not permitted' };
    }
    const a = [...argv];
    const json = (v: unknown): ExecResult => ({ code: 0, stdout: JSON.stringify(v), stderr: '' });
    if (a[0] === 'sysctl') return OK;
    if (a[0] === 'ethtool') return { code: 127, stdout: '', stderr: 'ethtool: not found', missing: true };
    if (line === 'ip -j -4 addr show') return json([{ ifname: this.parent.name, mtu: this.parent.mtu, addr_info: [{ family: 'inet', local: this.parent.ip, prefixlen: 24 }] }]);
    if (line === 'ip -d -j link show dev tinykube.1') {
      const d = this.device;
      if (!d) return { code: 1, stdout: '', stderr: 'Device "tinykube.1" does not exist.' };
      return json([{ ifname: 'tinykube.1', flags: d.up ? ['BROADCAST', 'UP'] : ['BROADCAST'], mtu: d.mtu, address: d.address, linkinfo: { info_kind: 'vxlan', info_data: { id: d.id, local: d.local, link: d.link, port: 8472, learning: false } } }]);
    }
    if (line === 'ip -j -4 addr show dev tinykube.1') {
      return json([{ ifname: 'tinykube.1', addr_info: [...(this.device?.addrs ?? [])].map((x) => ({ family: 'inet', local: x.split('/')[0], prefixlen: Number(x.split('/')[1]) })) }]);
    }
    if (a[0] === 'ip' && a[1] === 'link' && a[2] === 'add') {
      const at = (k: string): string => a[a.indexOf(k) + 1]!;
      this.device = { mtu: Number(at('mtu')), address: at('address'), addrs: new Set(), id: Number(at('id')), local: at('local'), link: at('dev'), up: false };
      return OK;
    }
    if (line === 'ip link del tinykube.1') {
      this.device = undefined;
      for (const [dst, r] of this.routes) if (r.dev === 'tinykube.1') this.routes.delete(dst);
      this.neighs.clear();
      this.fdb.clear();
      return OK;
    }
    if (a[0] === 'ip' && a[1] === 'link' && a[2] === 'set') {
      if (this.device && a.at(-1) === 'up') this.device.up = true;
      return OK;
    }
    if (a[0] === 'ip' && a[1] === 'addr') {
      if (a[2] === 'add') this.device?.addrs.add(a[3]!);
      else this.device?.addrs.delete(a[3]!);
      return OK;
    }
    if (line.startsWith('ip -j -4 route show')) {
      return json([...this.routes].map(([dst, r]) => ({ dst, gateway: r.gateway, ...(r.dev ? { dev: r.dev } : { dev: this.parent.name }), flags: r.onlink ? ['onlink'] : [] })));
    }
    if (a[0] === 'ip' && a[1] === 'route') {
      if (a[2] === 'replace') this.routes.set(a[3]!, { gateway: a[5]!, dev: a.includes('dev') ? a[a.indexOf('dev') + 1] : undefined, onlink: a.includes('onlink') });
      else this.routes.delete(a[3]!);
      return OK;
    }
    if (line === 'ip -j -4 neigh show dev tinykube.1') return json([...this.neighs].map(([dst, lladdr]) => ({ dst, lladdr, state: ['PERMANENT'] })));
    if (a[0] === 'ip' && a[1] === 'neigh') {
      if (a[2] === 'replace') this.neighs.set(a[3]!, a[5]!);
      else this.neighs.delete(a[3]!);
      return OK;
    }
    if (line === 'bridge -j fdb show dev tinykube.1') return json([...this.fdb].map(([mac, dst]) => ({ mac, dst, flags: ['self'], state: 'permanent' })));
    if (a[0] === 'bridge' && a[1] === 'fdb') {
      if (a[2] === 'append') this.fdb.set(a[3]!, a[7]!);
      else this.fdb.delete(a[3]!);
      return OK;
    }
    return { code: 1, stdout: '', stderr: `FakeKernel: unexpected command: ${line}` };
  }
}
