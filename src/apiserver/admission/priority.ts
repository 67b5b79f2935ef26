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
import { WatchedCache } from './cache.ts';
import { forbidden } from '../../util/status.ts';
import type { AdmissionAttributes, AdmissionPlugin } from './types.ts';

const DEFAULT_POLICY = 'PreemptLowerPriority';

export class PriorityAdmission implements AdmissionPlugin {
  readonly name = 'Priority';
  readonly #classes: WatchedCache<PriorityClass> | undefined;

  constructor(registry: Registry) {
    const store = registry.tryStore('priorityclasses', 'scheduling.k8s.io');
    this.#classes = store && new WatchedCache<PriorityClass>(store);
  }

  async start(): Promise<void> {
    await this.#classes?.start();
  }

  stop(): void {
    this.#classes?.stop();
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
      const pc = (await this.#classes!.get(undefined, spec.priorityClassName)) ?? SYSTEM_PRIORITY_CLASS_OBJECTS.find((c) => c.metadata?.name === spec.priorityClassName);
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
    const other = [...(this.#classes?.values() ?? [])].find((c) => c.globalDefault && c.metadata?.name !== name);
    if (other) {
      throw forbidden('priorityclasses.scheduling.k8s.io', name, `PriorityClass ${other.metadata?.name} is already marked as default. Only one default can exist`);
    }
  }

  #globalDefault(): PriorityClass | undefined {
    let best: PriorityClass | undefined;
    for (const pc of this.#classes?.values() ?? []) if (pc.globalDefault && (!best || pc.value < best.value)) best = pc;
    return best;
  }
}
