// Runs the admission plugins of plugins.ts for one request: every mutating plugin, in order, then
// every validating one, in order (kube-apiserver's admission chain). The store calls the returned
// WriteAdmission inside the write, so mutation sees defaulted objects and validation sees the object
// exactly as it will be stored.

import type { KubeObject } from '../../api/types.ts';
import type { WriteAdmission } from '../../registry/store.ts';
import type { AdmissionAttributes, AdmissionPlugin } from './types.ts';

export class AdmissionChain {
  readonly plugins: readonly AdmissionPlugin[];

  constructor(plugins: readonly AdmissionPlugin[]) {
    this.plugins = plugins;
  }

  async start(): Promise<void> {
    for (const p of this.plugins) await p.start?.();
  }

  stop(): void {
    for (const p of this.plugins) p.stop?.();
  }

  async admit(a: AdmissionAttributes, obj: KubeObject, old: KubeObject | undefined): Promise<void> {
    for (const p of this.plugins) if (p.admit) await p.admit(a, obj, old);
  }

  async validate(a: AdmissionAttributes, obj: KubeObject | undefined, old: KubeObject | undefined): Promise<void> {
    for (const p of this.plugins) if (p.validate) await p.validate(a, obj, old);
  }

  /** The store-side hooks of one create or update request. */
  forWrite(a: AdmissionAttributes): WriteAdmission {
    return {
      mutate: (obj, old) => this.admit({ ...a, operation: old ? 'UPDATE' : 'CREATE', name: a.name || (obj.metadata?.name ?? '') }, obj, old),
      validate: (obj, old) => this.validate({ ...a, operation: old ? 'UPDATE' : 'CREATE', name: a.name || (obj.metadata?.name ?? '') }, obj, old),
    };
  }
}
