// The admission seam: what a plugin sees of a request, and what it may do. Plugins are listed, in
// order, in plugins.ts; the chain (chain.ts) runs every mutating plugin first, then every validating
// one, as kube-apiserver does.
//
// Called by the API server for every write (create, update, patch, delete) and for connect requests
// (exec, attach, port-forward), concurrently for different requests. A plugin refuses by throwing a
// StatusError (usually Forbidden); it must be idempotent: an update retried after a conflict is
// admitted again against the newer stored object.

import type { KubeObject } from '../../api/types.ts';
import type { ResourceInfo } from '../../registry/strategy.ts';
import type { User } from '../auth/user.ts';
import type { RequestRecorder } from './recorder.ts';

export type AdmissionOperation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

/** warn() and addAuditAnnotation() reach the request's response and audit event (recorder.ts). */
export interface AdmissionAttributes extends RequestRecorder {
  operation: AdmissionOperation;
  resource: ResourceInfo;
  /** "" for the main resource. */
  subresource: string;
  namespace: string | undefined;
  /** The object's name ("" when a create leaves it to generateName). */
  name: string;
  user: User;
  dryRun: boolean;
}

export interface MutatingAdmission {
  /** May change `obj` (the incoming object; defaults applied). `old` is the stored object on update. */
  admit(a: AdmissionAttributes, obj: KubeObject, old: KubeObject | undefined): Promise<void>;
}

export interface ValidatingAdmission {
  /** May only refuse. `obj` is absent for DELETE and CONNECT; `old` is the stored object on update and delete. */
  validate(a: AdmissionAttributes, obj: KubeObject | undefined, old: KubeObject | undefined): Promise<void>;
}

export interface AdmissionPlugin extends Partial<MutatingAdmission>, Partial<ValidatingAdmission> {
  readonly name: string;
  /** Fills caches the plugin reads (started once with the API server). */
  start?(): Promise<void>;
  stop?(): void;
}
