// Pod subresources beyond status: binding (the scheduler's write), eviction, and the streaming ones
// (log, exec, attach, portforward), which are served by the pod's node agent through a ConnectHandler.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { KubeObject, Pod } from '../api/types.ts';
import { badRequest, conflict, methodNotAllowed, serviceUnavailable, StatusError } from '../util/status.ts';
import type { Clock } from '../util/clock.ts';
import { rfc3339 } from '../util/clock.ts';
import type { Registry } from '../registry/registry.ts';
import type { Store } from '../registry/store.ts';
import type { ResourceRequest } from './requestinfo.ts';
import { readBody, successStatus, writeJSON } from './respond.ts';
import { invalidError } from '../api/field.ts';
import { validatePodBinding } from '../api/validation/others.ts';
import type { Binding } from '../api/types.ts';
import { rejectTypeErrors, typeErrors, type GroupVersionKind } from './decode/fields.ts';
import { goJsonType, jsonErrorMessage } from './decode/gojson.ts';

export interface SubresourceContext {
  req: IncomingMessage;
  res: ServerResponse;
  registry: Registry;
  store: Store;
  info: ResourceRequest;
  query: URLSearchParams;
  clock: Clock;
  connect?: ConnectHandler;
}

export interface UpgradeContext {
  req: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  registry: Registry;
  info: ResourceRequest;
  query: URLSearchParams;
}

/**
 * Serves the streaming pod subresources by proxying to the node agent. Called by the HTTP layer
 * concurrently for many requests; each call owns its request until it ends.
 */
export interface ConnectHandler {
  /** Plain HTTP: GET log, and non-upgrade exec/attach/portforward requests. */
  serve(ctx: SubresourceContext, pod: Pod): Promise<void>;
  /** HTTP/1.1 Upgrade (WebSocket or SPDY) for exec, attach, portforward. */
  upgrade(ctx: UpgradeContext): Promise<void>;
}

type Handler = (ctx: SubresourceContext) => Promise<void>;

async function readJSON(req: IncomingMessage, gvk: GroupVersionKind): Promise<Record<string, unknown>> {
  const raw = await readBody(req);
  let v: unknown;
  try {
    v = JSON.parse(raw.toString('utf8') || '{}');
  } catch {
    throw badRequest(`${gvk.kind}: couldn't decode the request body: ${jsonErrorMessage(raw)}`);
  }
  // Go decodes null into a struct as nothing at all.
  if (v === null) v = {};
  if (typeof v !== 'object' || Array.isArray(v)) throw badRequest(`${gvk.kind}: couldn't decode the request body: json: cannot unmarshal ${goJsonType(v)} into Go value of type ${gvk.version}.${gvk.kind}`);
  // Decoded as the typed object, as the apiserver does: another kind, or a wrong JSON type
  // (`target.name: 5`), is a 400 and never coerced.
  const kind = (v as { kind?: unknown }).kind;
  if (kind !== undefined && kind !== gvk.kind) throw badRequest(`${String(kind)} cannot be handled as a ${gvk.kind}`);
  rejectTypeErrors(typeErrors(gvk.group, gvk.version, gvk.kind, v), gvk);
  return v as Record<string, unknown>;
}

/** POST pods/{name}/binding: sets spec.nodeName once, and the PodScheduled condition. */
const binding: Handler = async ({ req, res, store, info, query, clock }) => {
  if (req.method !== 'POST') throw methodNotAllowed();
  const body = await readJSON(req, { group: '', version: 'v1', kind: 'Binding' });
  const bound = (body.metadata as { name?: unknown } | undefined)?.name;
  if (bound !== undefined && bound !== '' && bound !== info.name) throw badRequest('name in URL does not match name in Binding object');
  const errs = validatePodBinding(body as unknown as Binding);
  if (errs.length) throw invalidError('Binding', info.name, errs);
  const nodeName = String((body.target as { name?: unknown }).name);
  const dryRun = query.getAll('dryRun').length > 0;
  await store.guaranteedUpdate(info.namespace, info.name, (pod) => {
    const spec = (pod.spec ?? {}) as { nodeName?: string };
    if (pod.metadata?.deletionTimestamp) throw conflict('pods', info.name, 'pod is being deleted, cannot be assigned to a host');
    if (spec.nodeName) throw conflict('pods', info.name, `pod ${info.name} is already assigned to node "${spec.nodeName}"`);
    spec.nodeName = nodeName;
    pod.spec = spec;
    setCondition(pod, { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: rfc3339(clock.now()) });
    return pod;
  }, { subresource: 'binding', dryRun, retryConflicts: true });
  writeJSON(req, res, 201, successStatus());
};

/** POST pods/{name}/eviction: deletes the pod (no PodDisruptionBudgets in tinykube yet). */
const eviction: Handler = async ({ req, res, store, info }) => {
  if (req.method !== 'POST') throw methodNotAllowed();
  const body = await readJSON(req, { group: 'policy', version: 'v1', kind: 'Eviction' });
  const opts = (body.deleteOptions ?? {}) as { gracePeriodSeconds?: unknown; preconditions?: { uid?: unknown; resourceVersion?: unknown } };
  const grace = typeof opts.gracePeriodSeconds === 'number' ? opts.gracePeriodSeconds : undefined;
  const preconditions: { uid?: string; resourceVersion?: string } = {};
  if (typeof opts.preconditions?.uid === 'string') preconditions.uid = opts.preconditions.uid;
  if (typeof opts.preconditions?.resourceVersion === 'string') preconditions.resourceVersion = opts.preconditions.resourceVersion;
  await store.delete(info.namespace, info.name, { gracePeriodSeconds: grace, preconditions });
  writeJSON(req, res, 201, successStatus());
};

/** log, exec, attach, portforward without an upgrade: only log is plain HTTP in practice. */
const streaming: Handler = async (ctx) => {
  const pod = (await ctx.store.get(ctx.info.namespace, ctx.info.name)) as Pod;
  if (!pod.spec?.nodeName) {
    const c = ctx.query.get('container') ?? pod.spec?.containers?.[0]?.name ?? '';
    throw badRequest(`container "${c}" in pod "${ctx.info.name}" is waiting to start: ContainerCreating`);
  }
  if (!ctx.connect) throw serviceUnavailable(`no node agent is serving ${ctx.info.subresource} for node "${pod.spec.nodeName}"`);
  await ctx.connect.serve(ctx, pod);
};

export const podSubresources: Record<string, Handler> = {
  binding,
  eviction,
  log: streaming,
  exec: streaming,
  attach: streaming,
  portforward: streaming,
};

export function setCondition(pod: KubeObject, cond: { type: string; status: string; [k: string]: unknown }): void {
  const status = ((pod.status ??= {}) as { conditions?: { type: string; status: string; lastTransitionTime?: unknown }[] });
  const list = (status.conditions ??= []);
  const i = list.findIndex((c) => c.type === cond.type);
  if (i < 0) list.push(cond);
  else if (list[i]!.status !== cond.status) list[i] = cond;
  else list[i] = { ...cond, lastTransitionTime: list[i]!.lastTransitionTime };
}

export { StatusError };
