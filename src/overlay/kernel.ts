// The overlay's kernel side, over a NetExec: read what the kernel has (the overlay's routes, the VXLAN
// device's permanent neighbours and fdb entries), make or adopt the VXLAN device, apply commands.
// What to run comes from model.ts; this file only runs and reads.
//
// Called by the overlay's sync loop, one call at a time.
import type { NetExec } from './exec.ts';
import {
  addressCommands,
  createDeviceCommand,
  judgeDevice,
  linkHolding,
  parseFdb,
  parseNeighs,
  parseRoutes,
  ROUTE_PROTO,
  type Command,
  type DeviceSpec,
  type NetState,
} from './model.ts';

export class OverlayKernelError extends Error {
  readonly code = 'ERR_OVERLAY_KERNEL';
  constructor(message: string) {
    super(message);
    this.name = 'OverlayKernelError';
  }
}

export class Kernel {
  readonly exec: NetExec;

  constructor(exec: NetExec) {
    this.exec = exec;
  }

  async #out(argv: readonly string[]): Promise<string> {
    const r = await this.exec.run(argv);
    if (r.code !== 0) throw new OverlayKernelError(`${argv.join(' ')}: ${r.stderr.trim() || `exit ${r.code}`}`);
    return r.stdout;
  }

  /** The link holding the node's IP, and its MTU. */
  async parentOf(ip: string): Promise<{ name: string; mtu: number }> {
    const link = linkHolding(await this.#out(['ip', '-j', '-4', 'addr', 'show']), ip);
    if (!link) throw new OverlayKernelError(`no link${this.exec.netns ? ` in network namespace ${this.exec.netns}` : ''} holds the node IP ${ip}`);
    return link;
  }

  /** `ip -d -j link show dev NAME`'s object, or undefined when there is no such link. */
  async link(name: string): Promise<Record<string, unknown> | undefined> {
    const r = await this.exec.run(['ip', '-d', '-j', 'link', 'show', 'dev', name]);
    if (r.code !== 0) return undefined;
    const list = JSON.parse(r.stdout || '[]') as Array<Record<string, unknown>>;
    return list[0];
  }

  /**
   * Makes the VXLAN device as `spec` says, adopting one that is already there when its identity (VNI,
   * port, local address, parent, learning) matches and fixing its MTU and MAC in place; otherwise it
   * is deleted and made again. Then its one address (the VTEP's /32) and up.
   */
  async ensureVxlan(spec: DeviceSpec, vtep: string): Promise<{ created: boolean; recreated?: string }> {
    const existing = await this.link(spec.name);
    let created = false;
    let recreated: string | undefined;
    if (existing) {
      const verdict = judgeDevice(existing, spec);
      if (verdict.kind === 'adopt') {
        await this.apply(verdict.fixes, true);
      } else {
        recreated = verdict.why;
        await this.#out(['ip', 'link', 'del', spec.name]);
      }
    }
    if (!existing || recreated) {
      await this.#out(createDeviceCommand(spec));
      created = true;
    }
    await this.apply(addressCommands(await this.#out(['ip', '-j', '-4', 'addr', 'show', 'dev', spec.name]), spec.name, vtep), true);
    const flags = created ? [] : ((existing?.flags ?? []) as unknown[]);
    if (!flags.includes('UP')) await this.#out(['ip', 'link', 'set', 'dev', spec.name, 'up']);
    return recreated ? { created, recreated } : { created };
  }

  async deleteLink(name: string): Promise<void> {
    if (await this.link(name)) await this.#out(['ip', 'link', 'del', name]);
  }

  /** The overlay's entries as the kernel has them; `device` undefined: routes only (host-gw). */
  async read(device: string | undefined): Promise<NetState> {
    const routes = parseRoutes(await this.#out(['ip', '-j', '-4', 'route', 'show', 'table', 'main', 'proto', String(ROUTE_PROTO)]));
    if (!device || !(await this.link(device))) return { routes, neighs: [], fdb: [] };
    const neighs = parseNeighs(await this.#out(['ip', '-j', '-4', 'neigh', 'show', 'dev', device]));
    const fdb = parseFdb(await this.#out(['bridge', '-j', 'fdb', 'show', 'dev', device]));
    return { routes, neighs, fdb };
  }

  /** Runs every command; returns the failures (or throws the first with `strict`). */
  async apply(commands: readonly Command[], strict = false): Promise<string[]> {
    const failures: string[] = [];
    for (const c of commands) {
      const r = await this.exec.run(c);
      if (r.code === 0) continue;
      const msg = `${c.join(' ')}: ${r.stderr.trim() || `exit ${r.code}`}`;
      if (strict) throw new OverlayKernelError(msg);
      failures.push(msg);
    }
    return failures;
  }

  /** sysctl -w; the failure as a value. */
  async sysctl(key: string, value: string): Promise<string | undefined> {
    const r = await this.exec.run(['sysctl', '-qw', `${key}=${value}`]);
    return r.code === 0 ? undefined : `sysctl ${key}=${value}: ${r.stderr.trim() || `exit ${r.code}`}`;
  }

  /**
   * Sets TX checksum offload on the device (see ChecksumOffload in model.ts for when it is off).
   * Returns a warning when it could not be done, ethtool missing included.
   */
  async setTxChecksumOffload(device: string, on: boolean): Promise<string | undefined> {
    const state = on ? 'on' : 'off';
    const r = await this.exec.run(['ethtool', '-K', device, 'tx-checksum-ip-generic', state]);
    if (r.code === 0) return undefined;
    if (r.missing) return on ? undefined : `ethtool is not installed: TX checksum offload stays on for ${device} (install the Debian package ethtool; see k3s issue 6880)`;
    return `ethtool -K ${device} tx-checksum-ip-generic ${state}: ${r.stderr.trim() || `exit ${r.code}`}`;
  }
}
