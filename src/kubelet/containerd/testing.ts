// Test harness: a private containerd in a temp dir with the built-in images imported and a CNI bridge
// network of its own (unique bridge name, unused /24), torn down completely afterwards (pods, shims,
// containerd, mounts, bridge, IPAM state, temp dir), even when the test failed.
//
// Used by integration tests of the runtime layer, the pod workers and the streaming layer. Several
// harnesses may run at once (each has its own names); needs root.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CriRuntime } from '../cri/cri-runtime.ts';
import { ensureBuiltinImages, type BuiltinImagesResult } from '../images/import.ts';
import { Containerd, type StartContainerdOptions } from './launcher.ts';

export interface TestNetwork {
  name: string;
  bridge: string;
  /** "10.88.X.0/24" */
  subnet: string;
  gateway: string;
}

export interface TestContainerd {
  dataDir: string;
  containerd: Containerd;
  runtime: CriRuntime;
  network: TestNetwork;
  images: BuiltinImagesResult;
  /**
   * A crash of containerd: SIGKILL (its shims and their containers live on), then a new containerd on
   * the same state, as an agent's restart starts it; `containerd` and `runtime` then are the new ones.
   */
  crashAndRestart(): Promise<void>;
  /** Idempotent; also registered with the test's `after` hook. */
  cleanup(): Promise<void>;
}

/** The part of node:test's TestContext we use, so any test or suite context fits. */
export interface AfterHook {
  after(fn: () => Promise<void> | void): void;
}

function sh(cmd: string, args: string[]): Promise<{ stdout: string; code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ stdout, stderr, code });
    });
  });
}

/** A /24 inside 10.88.0.0/16 that no route on this machine uses yet. */
async function freeSubnet(): Promise<{ subnet: string; gateway: string }> {
  const routes = (await sh('ip', ['-4', 'route', 'show'])).stdout;
  for (let i = 0; i < 64; i++) {
    const x = 1 + (randomBytes(1)[0] % 250);
    if (!routes.includes(`10.88.${x}.`)) return { subnet: `10.88.${x}.0/24`, gateway: `10.88.${x}.1` };
  }
  throw new Error('no free 10.88.X.0/24 subnet for the test network');
}

/**
 * The CNI conflist the test network uses: bridge + host-local IPAM (state under our data dir) +
 * portmap. No loopback entry: containerd's CRI brings up `lo` in every pod itself.
 */
export function bridgeConflist(net: TestNetwork, ipamDir: string): string {
  return JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: net.name,
      plugins: [
        {
          type: 'bridge',
          bridge: net.bridge,
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: { type: 'host-local', ranges: [[{ subnet: net.subnet, gateway: net.gateway }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: ipamDir },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  );
}

/** Mount points at or below dir, deepest first (so nested mounts are unmounted before parents). */
export function mountsUnder(dir: string): string[] {
  const out: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mp = line.split(' ')[4];
    if (!mp) continue;
    const path = mp.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (path === dir || path.startsWith(dir + '/')) out.push(path);
  }
  return out.sort((a, b) => b.length - a.length);
}

/** PIDs of processes whose command line names this socket (containerd-shim-runc-v2 -address SOCK). */
export function processesUsing(socket: string): number[] {
  const pids: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const argv = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      if (argv.includes(socket) && Number(e) !== process.pid) pids.push(Number(e));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

/** One process as /proc/<pid>/stat gives it: its parent, and the CPU ticks (USER_HZ) it and its reaped children used. */
export interface ProcEntry {
  ppid: number;
  cpuTicks: number;
}

/** Every process in one pass over /proc (fields after the parenthesised name: ppid is 4, utime..cstime 14-17). */
export function procTable(): Map<number, ProcEntry> {
  const out = new Map<number, ProcEntry>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(e), { ppid: Number(f[1]), cpuTicks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) });
    } catch {
      // exited while we looked
    }
  }
  return out;
}

/** PIDs whose parent is `ppid`. */
export function childrenOf(ppid: number): number[] {
  return [...procTable()].filter(([, p]) => p.ppid === ppid).map(([pid]) => pid);
}

/** Shared across harnesses and runs: building the images is the slow part of a first start. */
const IMAGE_CACHE = join(tmpdir(), 'tinykube-test-images');

export async function startTestContainerd(t: AfterHook, opts: Partial<Omit<StartContainerdOptions, 'dataDir'>> = {}): Promise<TestContainerd> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tk-cri-'));
  const id = randomBytes(4).toString('hex');
  const { subnet, gateway } = await freeSubnet();
  const network: TestNetwork = { name: `tk-test-${id}`, bridge: `tkbr${id}`, subnet, gateway };
  let containerd: Containerd | undefined;
  let runtime: CriRuntime | undefined;
  let done: Promise<void> | undefined;

  const cleanup = (): Promise<void> => {
    done ??= (async () => {
      const errors: unknown[] = [];
      const attempt = async (fn: () => Promise<unknown>) => {
        try {
          await fn();
        } catch (err) {
          errors.push(err);
        }
      };
      if (containerd?.running && runtime) {
        const rt = runtime;
        await attempt(async () => {
          for (const s of await rt.listPodSandbox()) {
            await rt.stopPodSandbox(s.id);
            await rt.removePodSandbox(s.id);
          }
        });
      }
      runtime?.close();
      if (containerd) await attempt(() => containerd!.stop(5000));
      if (containerd) {
        // Shims of pods we could not remove would hold mounts and the bridge port: kill them by PID,
        // their children (each container's PID 1: killing it ends its PID namespace) first, or those
        // would be orphaned to init, still holding their network namespaces.
        for (const shim of processesUsing(containerd.socket)) {
          for (const pid of [...childrenOf(shim), shim]) {
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              // already gone
            }
          }
        }
      }
      for (const mp of mountsUnder(dataDir)) await attempt(() => sh('umount', ['-l', mp]));
      await attempt(() => sh('ip', ['link', 'del', network.bridge]));
      await attempt(() => rm(dataDir, { recursive: true, force: true }));
      if (errors.length) throw new AggregateError(errors, 'test containerd cleanup had errors');
    })();
    return done;
  };
  t.after(cleanup);

  containerd = await Containerd.start({ dataDir, ...opts });
  runtime = new CriRuntime({ client: containerd.cri });
  await mkdir(containerd.layout.cniConfDir, { recursive: true });
  await writeFile(join(containerd.layout.cniConfDir, '10-tinykube.conflist'), bridgeConflist(network, containerd.layout.cniIpamDir));
  // containerd notices the conflist through inotify, a moment later; sandboxes fail until it has.
  const deadline = performance.now() + 10_000;
  while (!(await runtime.status()).some((c) => c.type === 'NetworkReady' && c.status)) {
    if (performance.now() > deadline) throw new Error('containerd never reported NetworkReady');
    await new Promise((r) => setTimeout(r, 10));
  }
  await mkdir(IMAGE_CACHE, { recursive: true });
  const images = await ensureBuiltinImages(containerd.socket, IMAGE_CACHE, { cri: containerd.cri });
  return {
    dataDir,
    get containerd() {
      return containerd!;
    },
    get runtime() {
      return runtime!;
    },
    network,
    images,
    async crashAndRestart() {
      runtime!.close();
      process.kill(containerd!.pid, 'SIGKILL');
      await containerd!.exited();
      containerd = await Containerd.start({ dataDir, ...opts, adopt: false });
      runtime = new CriRuntime({ client: containerd.cri });
    },
    cleanup,
  };
}
