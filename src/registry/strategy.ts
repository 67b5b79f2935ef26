// A resource's strategy: everything that differs between resources in the generic store
// (as in k8s.io/apiserver's generic registry). The store calls these synchronously, concurrently
// for different requests; they must not do I/O and must not keep state.

import type { FieldError } from '../api/field.ts';
import type { KubeObject } from '../api/types.ts';
import type { FieldLabelSet } from '../api/fields.ts';
import type { RequestUser } from './kind.ts';

/** What a create knows besides the object (kube-apiserver's request context). */
export interface CreateContext {
  user?: RequestUser;
}

export interface ResourceInfo {
  /** API group, "" for core. */
  group: string;
  version: string;
  /** Plural resource name, as in URLs ("pods"). */
  resource: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  /** Subresources served for this resource ("status", "binding", "log", ...). */
  subresources?: string[];
  /** Verbs on the main resource. */
  verbs: string[];
}

export interface Strategy<T extends KubeObject = KubeObject> {
  readonly info: ResourceInfo;

  /** Applies API defaults (as the apiserver's defaulting funcs). Called on every incoming object: create, update, patch result. */
  defaults(obj: T): void;

  /**
   * Adjusts a new object before validation on create (e.g. pods: reset status, phase Pending, qosClass).
   * `ctx.user` is the requesting user when the create comes from a request.
   */
  prepareForCreate(obj: T, ctx?: CreateContext): void;

  /** Validation of a new object. */
  validate(obj: T): FieldError[];

  /**
   * Adjusts an update before validation (e.g. keep the stored status on a spec update). `old` is
   * shared and read-only (Store.guaranteedUpdate): parts of it may be moved into `obj`, and nothing
   * written to `obj` afterwards may reach them.
   */
  prepareForUpdate(obj: T, old: T): void;

  /** Validation of an update, including immutability rules. */
  validateUpdate(obj: T, old: T): FieldError[];

  /** Field-selector values for this object, metadata.name/namespace included. Absent = those two only. */
  fieldsOf?(obj: T): Record<string, string>;

  /** The field labels selectors may use (absent = metadata.name and metadata.namespace). */
  fieldLabels?: FieldLabelSet;

  /** The status subresource: which changes a status update keeps. Absent = no status subresource. */
  status?: SubresourceStrategy<T>;

  /** Other writable subresources besides status (namespaces: "finalize"). */
  subresources?: Record<string, SubresourceStrategy<T>>;
}

export interface SubresourceStrategy<T extends object = KubeObject> {
  prepareForUpdate(obj: T, old: T): void;
  validateUpdate(obj: T, old: T): FieldError[];
}
