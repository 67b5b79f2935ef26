// Priority: a new pod's priorityClassName is resolved to spec.priority and spec.preemptionPolicy (a
// pod without one gets the global default class, the one with the smallest value if several claim
// it, or priority 0); a missing class, or a priority or policy in the pod that differs from its
// class's, is Forbidden with the plugin's messages; only one PriorityClass may be the global default.
// (The system classes themselves are made by the registry at start.)
//
// Classes are read from a cache kept by a watch (Kubernetes' plugin reads an informer's lister): pod
// creates must not list them each time. A named class missing from the cache is read from the store
// before the pod is refused, so a class created just before its first pod is always found.

import type { KubeObject, Pod, PriorityClass } from '../../api/types.ts';
import { SYSTEM_PRIORITY_CLASS_OBJECTS } from '../../api/validation/others.ts';
import type { Registry } from '../../registry/registry.ts';
import type { Store, StoreWatch } from '../../registry/store.ts';
import { forbidden } from '../../util/status.ts';
import type { AdmissionAttributes, AdmissionPlugin } from './types.ts';

const DEFAULT_POLICY = 'PreemptLowerPriority';

export class PriorityAdmission implements AdmissionPlugin {
  readonly name = 'Priority';
  readonly #classes: Store | undefined;
  readonly #cache = new Map<string, PriorityClass>();
  #watch: StoreWatch | undefined;
  #stopped = false;

  constructor(registry: Registry) {
    this.#classes = registry.tryStore('priorityclasses', 'scheduling.k8s.io');
  }

  /** Fills the cache and keeps it current. */
  async start(): Promise<void> {
    if (!this.#classes) return;
    const list = await this.#classes.list({});
    for (const pc of list.items) this.#cache.set(pc.metadata!.name!, pc as unknown as PriorityClass);
    const watch = await this.#classes.watch({
      resourceVersion: list.resourceVersion,
      onEvent: (ev) => {
        const name = ev.object.metadata!.name!;
        if (ev.type === 'DELETED') this.#cache.delete(name);
        else this.#cache.set(name, ev.object as unknown as PriorityClass);
      },
      onError: () => {
        // Only a closing store ends it; lookups fall back to the store meanwhile.
        this.#cache.clear();
      },
    });
    if (this.#stopped) watch.close();
    else this.#watch = watch;
  }

  stop(): void {
    this.#stopped = true;
    this.#watch?.close();
  }

  async admit(a: AdmissionAttributes, obj: KubeObject): Promise<void> {
    if (!this.#classes || a.operation !== 'CREATE' || a.subresource || a.resource.group !== '' || a.resource.resource !== 'pods') return;
    await this.admitPod(obj as Pod);
  }

  async validate(a: AdmissionAttributes, obj: KubeObject | undefined, old: KubeObject | undefined): Promise<void> {
    if (!obj || a.subresource || a.resource.group !== 'scheduling.k8s.io' || a.resource.resource !== 'priorityclasses') return;
    if (a.operation === 'CREATE' || a.operation === 'UPDATE') await this.admitClass(obj as unknown as PriorityClass, old as unknown as PriorityClass | undefined);
  }

  /** Priority admission of a new pod: sets spec.priority and spec.preemptionPolicy from its class. */
  async admitPod(pod: Pod): Promise<void> {
    const spec = pod.spec;
    if (!spec || typeof spec !== 'object') return;
    const podName = pod.metadata?.name ?? pod.metadata?.generateName ?? '';
    let value = 0;
    let policy: string = DEFAULT_POLICY;
    if (spec.priorityClassName) {
      // The system classes always exist (start() makes them); before it ran, they are known anyway.
      const pc =
        this.#cache.get(spec.priorityClassName) ??
        ((await this.#classes!.tryGet(undefined, spec.priorityClassName)) as unknown as PriorityClass | null) ??
        SYSTEM_PRIORITY_CLASS_OBJECTS.find((c) => c.metadata?.name === spec.priorityClassName);
      if (!pc) throw forbidden('pods', podName, `no PriorityClass with name ${spec.priorityClassName} was found`);
      value = pc.value;
      policy = pc.preemptionPolicy ?? DEFAULT_POLICY;
    } else {
      const def = this.#globalDefault();
      if (def) {
        spec.priorityClassName = def.metadata!.name;
        value = def.value;
        policy = def.preemptionPolicy ?? DEFAULT_POLICY;
      }
    }
    if (spec.priority !== undefined && spec.priority !== null && spec.priority !== value) {
      throw forbidden('pods', podName, `the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${value} from the given PriorityClass name`);
    }
    spec.priority = value;
    if (spec.preemptionPolicy !== undefined && spec.preemptionPolicy !== null && spec.preemptionPolicy !== policy) {
      throw forbidden('pods', podName, `the string value of PreemptionPolicy (${spec.preemptionPolicy}) must not be provided in pod spec; priority admission controller computed ${policy} from the given PriorityClass name`);
    }
    spec.preemptionPolicy = policy;
  }

  /** A class may become the global default only while no other class is. */
  async admitClass(pc: PriorityClass, old: PriorityClass | undefined): Promise<void> {
    if (!pc.globalDefault || old?.globalDefault) return;
    const name = pc.metadata?.name ?? '';
    const other = [...this.#cache.values()].find((c) => c.globalDefault && c.metadata?.name !== name);
    if (other) {
      throw forbidden('priorityclasses.scheduling.k8s.io', name, `PriorityClass ${other.metadata?.name} is already marked as default. Only one default can exist`);
    }
  }

  #globalDefault(): PriorityClass | undefined {
    let best: PriorityClass | undefined;
    for (const pc of this.#cache.values()) if (pc.globalDefault && (!best || pc.value < best.value)) best = pc;
    return best;
  }
}
