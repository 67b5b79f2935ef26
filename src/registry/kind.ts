// One kind, defined once: its identity, its typed strategy, its table printer, its field selectors,
// its subresources and how it is deleted. Everything else derives from the list in kinds.ts:
// discovery, OpenAPI, tables, routing, the stores. Nothing outside a kind's folder branches on its name.
//
// A kind folder (src/registry/<group>/<resource>/) exports one `defineKind<T>({...})` value. The typed
// pieces take the kind's own type (Pod, Namespace...); defineKind erases them to KubeObject once, here,
// because the store and the HTTP layer handle every kind alike.

import type { FieldError } from '../api/field.ts';
import type { FieldLabelSet } from '../api/fields.ts';
import { modelNameForKind } from '../api/models.ts';
import type { KubeObject } from '../api/types.ts';
import type { JSONSchemaProps } from '../api/apiextensions/types.ts';
import type { Clock } from '../util/clock.ts';
import type { TablePrinter } from './printing/types.ts';
import type { Backend } from '../storage/backend.ts';
import type { ServiceRanges } from '../api/network.ts';
import type { DeletionPolicy, Store, WriteHooks } from './store.ts';
import type { ResourceInfo, Strategy, SubresourceStrategy } from './strategy.ts';
import type { TokenSigner } from './core/serviceaccounts/token.ts';
import type { ComputeContext } from './review.ts';

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

/** What a create-like subresource (pods/binding, pods/eviction) gets: its decoded body and the parent's store. */
export interface SubresourceCreateContext {
  store: Store;
  /** Other kinds' stores, for a subresource whose action reads or writes them (pods/eviction: PodDisruptionBudgets). */
  stores: StoreLookup;
  namespace: string | undefined;
  name: string;
  body: Record<string, unknown>;
  dryRun: boolean;
  clock: Clock;
  /** Signs service-account tokens (serviceaccounts/token); absent when the server has no signing key. */
  tokens?: TokenSigner;
}

/** The registry as a subresource sees it (implemented by Registry). */
export interface StoreLookup {
  /** The store (of the preferred version) of a kind, or undefined when the server does not serve it. */
  tryStore(resource: string, group?: string): Store | undefined;
}

/**
 * A subresource, by what it does. Exactly one of `update`, `create`, `connect` is set (or none, for
 * a subresource that is only advertised).
 */
export interface SubresourceDefinition<T extends object = KubeObject> {
  /** Discovery verbs, in kube-apiserver's order. */
  verbs: readonly string[];
  /** Kind of the request and response body when it is not the parent's (Binding, Eviction, PodExecOptions...). */
  kind?: GroupVersionKind;
  /** Published in the OpenAPI document with these verbs (kube-apiserver lists status, binding, eviction...). */
  openapi?: boolean;
  /** A PUT/PATCH of the parent object that may change only part of it (status, finalize). */
  update?: SubresourceStrategy<T>;
  /**
   * A POST of another kind that acts on the parent (binding, eviction): answers 201 Success, or 201
   * with the object returned (serviceaccounts/token answers the TokenRequest with its token).
   */
  create?(ctx: SubresourceCreateContext): Promise<void | KubeObject>;
  /** Served by the node agent the object runs on (log, exec, attach, portforward), or proxied (`proxy`). */
  connect?: boolean;
  /**
   * With `connect`: the API server proxies every method, path and upgrade under the subresource to
   * where the object says (pods/proxy, nodes/proxy, addressed as NAME, NAME:PORT or SCHEME:NAME:PORT).
   */
  proxy?: ProxyTarget<T>;
  /**
   * The scale subresource: GET answers an autoscaling/v1 Scale made from the object, PUT and PATCH
   * change the object's replicas through it (`update` then keeps everything else).
   */
  scale?: ScaleAccess<T>;
}

/** What a proxied request named beside the object's name: `https:web:8443` is scheme https, port "8443". */
export interface ProxyRequest {
  /** "http", "https" or "" (not given). */
  scheme: string;
  /** A number, a port name, or "" (not given). */
  port: string;
}

/**
 * Where a proxied request goes: a plain address (a pod's IP and port, dialled as a client would),
 * or a node, which the API server reaches through its agent (with its client certificate) when the
 * port is the agent's own or not given, and on the node's address otherwise.
 */
export type ProxyLocation =
  | { to: 'address'; scheme: 'http' | 'https'; host: string; port: string }
  | { to: 'node'; nodeName: string; scheme: string; port: string };

/**
 * Why a proxied request has nowhere to go: `refused` is a 400, `unavailable` a 503 (a Service
 * without endpoints), `notFound` a 404 for another object the target needed (a Service's Endpoints).
 */
export type ProxyRefusal = { refused: string } | { unavailable: string } | { notFound: { resource: string; name: string } };

/** Other objects a proxy target may read, from storage (services/proxy reads the Service's Endpoints and pods). */
export interface ProxyLookup {
  /** The object, or undefined when it does not exist or its kind is not served. */
  get(resource: string, group: string, namespace: string | undefined, name: string): Promise<KubeObject | undefined>;
}

/** Called once per proxied request with the object read from storage; may read other objects through `lookup`. */
export interface ProxyTarget<T> {
  /** The location, or the reason there is none (with kube-apiserver's message). */
  location(obj: T, want: ProxyRequest, lookup?: ProxyLookup): ProxyLocation | ProxyRefusal | Promise<ProxyLocation | ProxyRefusal>;
}

/** autoscaling/v1 Scale, as the scale subresource reads and writes it. */
export interface Scale {
  apiVersion: 'autoscaling/v1';
  kind: 'Scale';
  metadata: { name?: string; namespace?: string; uid?: string; resourceVersion?: string; creationTimestamp?: string };
  spec: { replicas?: number };
  status: { replicas: number; selector?: string };
}

export interface ScaleAccess<T> {
  /** The Scale of an object (its metadata is filled in by the caller). */
  get(obj: T): Pick<Scale, 'spec' | 'status'>;
  /** Sets the object's desired replicas. */
  setReplicas(obj: T, replicas: number): void;
}

export interface FieldSelectors<T> {
  /** The field labels selectors may use, with their error texts. */
  labels: FieldLabelSet;
  /** The object's value for every label in `labels` (metadata.name/namespace included). */
  of(obj: T): Record<string, string>;
}

/** The typed strategy hooks a kind writes (see strategy.ts for when the store calls each). */
export interface KindStrategy<T> {
  defaults?(obj: T): void;
  prepareForCreate?(obj: T): void;
  validate(obj: T): FieldError[];
  prepareForUpdate?(obj: T, old: T): void;
  validateUpdate(obj: T, old: T): FieldError[];
}

/** Identity as a kind folder writes it: listKind, verbs and subresource names are derived. */
export type KindIdentity = Omit<ResourceInfo, 'listKind' | 'verbs' | 'subresources'> & { listKind?: string; verbs?: readonly string[] };

export interface KindSpec<T extends object> {
  identity: KindIdentity;
  strategy: KindStrategy<T>;
  /** Server-side table columns (kubectl get); absent = Name and Age. */
  printer?: TablePrinter;
  /** Field selectors beyond metadata.name and metadata.namespace. */
  fields?: FieldSelectors<T>;
  subresources?: Record<string, SubresourceDefinition<T>>;
  /** How deletion waits (graceful pods, namespaces held by spec.finalizers); absent = at once. */
  deletion?: DeletionPolicy;
  /** A PUT to a missing name creates the object (kube-apiserver's AllowCreateOnUpdate). Default true. */
  createOnUpdate?: boolean;
  /** DELETE answers with the object instead of a Success Status (kube-apiserver's ReturnDeletedObject). */
  returnsDeletedObject?: boolean;
  /** Where the schema comes from; absent = the client-node model of the kind's name. */
  schema?: KindSchema;
  /**
   * The version objects are stored in, when the kind is served in several (CustomResourceDefinitions):
   * every served version reads and writes the same objects, whose apiVersion is rewritten (conversion None).
   */
  storageVersion?: string;
  /** Applied to every object read from storage (custom resources: pruned and defaulted, as kube-apiserver does on read). */
  normalize?(obj: T): void;
  /** Objects kept in another kind's storage, converted on the way in and out (events.k8s.io/v1 Events). */
  storage?: SharedStorage<T>;
  /**
   * A kind computed on create and never stored (SelfSubjectReview and the other reviews): a POST
   * answers 201 with what this returns for the request's user, after `strategy.validate`. It may
   * throw a StatusError (a 400, a 500) as kube-apiserver's REST storage of the kind answers.
   */
  compute?(obj: T, ctx: ComputeContext): T | Promise<T>;
  /** Work beside the stored object (Services' address and port claims), built once per store. */
  writeHooks?(env: WriteHookEnv): WriteHooks;
}

/** What a kind's write hooks are built with: the API server's storage, clock and configured ranges. */
export interface WriteHookEnv {
  backend: Backend;
  clock: Clock;
  serviceRanges: ServiceRanges;
}

/**
 * Where a kind served in another group keeps its objects: at the keys of another kind
 * (`/registry/<group/><resource>/...`), in that kind's stored form, as kube-apiserver keeps
 * events.k8s.io/v1 Events with core/v1 Events (cohabiting resources). Writes through either API are
 * read, listed and watched through both; each object crosses a conversion on every read and write.
 * Both functions get an object they may keep parts of, and must not modify it; metadata (including
 * resourceVersion) passes through unchanged.
 */
export interface SharedStorage<T> {
  /** The kind whose storage is shared: its group, stored version, kind and resource (plural). */
  group: string;
  version: string;
  kind: string;
  resource: string;
  /** This kind's object in the stored kind's form (apiVersion and kind of the stored kind). */
  toStorage(obj: T): KubeObject;
  /** A stored object in this kind's form (apiVersion and kind of this kind). */
  fromStorage(obj: KubeObject): T;
}

/** The caller, as kinds computed per request see it. */
export interface RequestUser {
  name: string;
  groups: string[];
  uid?: string;
  extra?: Record<string, string[]>;
}

/**
 * Where a kind's schema comes from: built-in kinds use the @kubernetes/client-node model of the same
 * name ("V1Pod"), which OpenAPI publishes and request bodies are decoded against; custom resources
 * bring a structural OpenAPI v3 schema.
 */
export type KindSchema = { model: string } | { openAPIV3: JSONSchemaProps };

/** A kind as the store and the HTTP layer see it. */
export interface KindDefinition {
  readonly info: ResourceInfo;
  readonly strategy: Strategy;
  readonly printer?: TablePrinter;
  readonly subresources: Readonly<Record<string, SubresourceDefinition>>;
  readonly deletion?: DeletionPolicy;
  readonly createOnUpdate: boolean;
  readonly returnsDeletedObject: boolean;
  readonly schema: KindSchema;
  readonly storageVersion?: string;
  readonly normalize?: (obj: KubeObject) => void;
  readonly storage?: SharedStorage<KubeObject>;
  readonly compute?: (obj: KubeObject, ctx: ComputeContext) => KubeObject | Promise<KubeObject>;
  readonly writeHooks?: (env: WriteHookEnv) => WriteHooks;
}

export const allVerbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] as const;

/** Builds a kind from its typed parts (the one place the kind's type is erased to KubeObject). */
export function defineKind<T extends object>(spec: KindSpec<T>): KindDefinition {
  const erased = spec as unknown as KindSpec<KubeObject>;
  const s = erased.strategy;
  const subs = erased.subresources ?? {};
  const updates: Record<string, SubresourceStrategy> = {};
  for (const [name, sub] of Object.entries(subs)) if (sub.update && name !== 'status') updates[name] = sub.update;
  const { listKind, verbs, ...identity } = spec.identity;
  const info: ResourceInfo = {
    ...identity,
    listKind: listKind ?? `${identity.kind}List`,
    verbs: [...(verbs ?? allVerbs)],
    ...(Object.keys(subs).length ? { subresources: Object.keys(subs).sort() } : {}),
  };
  const strategy: Strategy = {
    info,
    defaults: s.defaults?.bind(s) ?? noop,
    prepareForCreate: s.prepareForCreate?.bind(s) ?? noop,
    validate: s.validate.bind(s),
    prepareForUpdate: s.prepareForUpdate?.bind(s) ?? noop,
    validateUpdate: s.validateUpdate.bind(s),
    ...(erased.fields ? { fieldsOf: erased.fields.of, fieldLabels: erased.fields.labels } : {}),
    ...(subs.status?.update ? { status: subs.status.update } : {}),
    ...(Object.keys(updates).length ? { subresources: updates } : {}),
  };
  return {
    info,
    strategy,
    printer: spec.printer,
    subresources: subs,
    deletion: spec.deletion,
    createOnUpdate: spec.createOnUpdate ?? true,
    returnsDeletedObject: spec.returnsDeletedObject ?? false,
    schema: spec.schema ?? { model: modelFor(info) },
    storageVersion: spec.storageVersion,
    normalize: erased.normalize?.bind(erased),
    storage: erased.storage,
    compute: erased.compute?.bind(erased),
    writeHooks: erased.writeHooks?.bind(erased),
  };
}

function noop(): void {}

function modelFor(info: ResourceInfo): string {
  const model = modelNameForKind(info.group, info.version, info.kind);
  if (!model) throw new Error(`kind ${info.kind} (${info.group}/${info.version}) has no client-node model`);
  return model;
}
