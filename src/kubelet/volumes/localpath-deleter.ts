// The local-path provisioner's node half: removes the directory of a local-path volume pinned to this
// node once the PV controller has released it under the Delete policy, then deletes the PersistentVolume
// (that delete is what tells the cluster the storage is gone, as an external provisioner's deleter
// does). Volumes under Retain stay Released with their data; volumes of other nodes are theirs.
//
// Safety: only a directory directly under this node's storage root whose name the provisioner gives
// (`pvc-...`) is removed, never through a symlink and never while something is mounted under it; every
// other path is refused with a VolumeFailedDelete event and left alone.
//
// Runs in the agent: an informer on PersistentVolumes, one removal at a time; a failure is retried
// with backoff (1 s doubling to 5 min) and said once in an event.
import { lstat, rm } from 'node:fs/promises';
import { basename, dirname, normalize } from 'node:path';
import type { Node, PersistentVolume } from '../../api/types.ts';
import { localPathNode } from '../../api/volumes/localpath.ts';
import type { ApiClient, HasMetadata } from '../../client/client.ts';
import { isNotFound } from '../../client/errors.ts';
import { Informer, listWatch } from '../../client/informer.ts';
import { PersistentVolumes } from '../../client/resources.ts';
import type { Clock, Timer } from '../../util/clock.ts';
import type { EventRecorder } from '../events/recorder.ts';
import { mountsUnder } from './mountinfo.ts';

type Volume = PersistentVolume & HasMetadata;

export interface LocalPathDeleterOptions {
  client: ApiClient;
  clock: Clock;
  /** This node's storage root (what it publishes in local-path.tinykube.io/storage-root). */
  root: string;
  /** This node's kubernetes.io/hostname label value (local-path volumes' node affinity names it). */
  hostname: () => string;
  recorder: EventRecorder;
  onError?: (err: unknown) => void;
}

const MAX_BACKOFF_MS = 5 * 60_000;

/** Why the directory may not be removed, or undefined when it may. */
export async function unsafeToRemove(path: string, root: string): Promise<string | undefined> {
  const p = normalize(path);
  if (p !== path || dirname(p) !== normalize(root) || !basename(p).startsWith('pvc-')) return `path ${JSON.stringify(path)} is not a volume directory under this node's storage root ${JSON.stringify(root)}`;
  let st;
  try {
    st = await lstat(p);
  } catch (err) {
    // Never made (no pod mounted it) or already removed: nothing to remove.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if (st.isSymbolicLink() || !st.isDirectory()) return `path ${JSON.stringify(path)} is not a directory`;
  if (mountsUnder(p).length > 0) return `path ${JSON.stringify(path)} is still mounted`;
  return undefined;
}

export class LocalPathDeleter {
  readonly #o: LocalPathDeleterOptions;
  readonly #informer: Informer<Volume>;
  readonly #pending = new Set<string>();
  readonly #failures = new Map<string, { attempts: number; said: string }>();
  readonly #timers = new Map<string, Timer>();
  #running: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(o: LocalPathDeleterOptions) {
    this.#o = o;
    this.#informer = new Informer<Volume>(listWatch<Volume>(o.client, PersistentVolumes), { clock: o.clock, onError: o.onError });
  }

  start(): void {
    const consider = (pv: Volume) => {
      if (this.#ours(pv)) this.#enqueue(pv.metadata?.name ?? '');
    };
    this.#informer.addEventHandler({ onAdd: consider, onUpdate: (_a, pv) => consider(pv), onDelete: (pv) => this.#failures.delete(pv.metadata?.name ?? '') });
    this.#informer.start();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers.values()) t.cancel();
    this.#timers.clear();
    await this.#informer.stop();
    await this.#running;
  }

  /** A Released local-path volume of this node under Delete. */
  #ours(pv: Volume): boolean {
    return pv.status?.phase === 'Released' && pv.spec?.persistentVolumeReclaimPolicy === 'Delete' && localPathNode(pv) === this.#o.hostname();
  }

  #enqueue(name: string): void {
    if (this.#stopped || this.#pending.has(name) || this.#timers.has(name)) return;
    this.#pending.add(name);
    this.#running = this.#running.then(() => this.#delete(name)).catch((err: unknown) => this.#o.onError?.(err));
  }

  async #delete(name: string): Promise<void> {
    this.#pending.delete(name);
    const pv = this.#informer.store.get(undefined, name);
    if (!pv || !this.#ours(pv) || this.#stopped) return;
    const path = pv.spec?.hostPath?.path ?? pv.spec?.local?.path ?? '';
    try {
      const why = await unsafeToRemove(path, this.#o.root);
      if (why) throw new Error(why);
      await rm(path, { recursive: true, force: true });
      await this.#o.client.delete(PersistentVolumes, undefined, name, { preconditions: { uid: pv.metadata?.uid } });
      this.#failures.delete(name);
    } catch (err) {
      if (isNotFound(err)) return;
      const f = this.#failures.get(name) ?? { attempts: 0, said: '' };
      f.attempts++;
      const message = `failed to delete volume ${name}: ${(err as Error).message}`;
      if (f.said !== message) {
        f.said = message;
        this.#o.recorder.event({ apiVersion: 'v1', kind: 'PersistentVolume', name, uid: pv.metadata?.uid }, 'Warning', 'VolumeFailedDelete', message);
      }
      this.#failures.set(name, f);
      const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(f.attempts - 1, 20));
      this.#timers.set(name, this.#o.clock.setTimeout(() => {
        this.#timers.delete(name);
        this.#enqueue(name);
      }, delay));
    }
  }
}

/** The hostname label value of the node, as its Node object (or the node name) says. */
export function nodeHostname(node: Node | undefined, nodeName: string): string {
  return node?.metadata?.labels?.['kubernetes.io/hostname'] ?? nodeName;
}
