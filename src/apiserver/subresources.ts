// What the HTTP layer needs for subresources that are not a partial update of their object: the
// decoding of a create-like subresource's body (pods/binding, pods/eviction: the kind's folder does
// the rest), and the connect subresources, through a ConnectHandler: log, exec, attach, portforward,
// which the node agent the object runs on serves, and the proxy subresources (pods/proxy, nodes/proxy).

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Pod } from '../api/types.ts';
import { badRequest, serviceUnavailable, StatusError } from '../util/status.ts';
import type { Clock } from '../util/clock.ts';
import type { Registry } from '../registry/registry.ts';
import type { Store } from '../registry/store.ts';
import type { ResourceRequest } from './requestinfo.ts';
import { readBody } from './respond.ts';
import { rejectTypeErrors, typeErrors, type GroupVersionKind } from './decode/fields.ts';
import { goJsonType, jsonErrorMessage } from './decode/gojson.ts';
import { bodyFormat, decodeBodyDetailed } from './decode/body.ts';

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
  /** Any request to a proxy subresource (pods/proxy, nodes/proxy): the kind's ProxyTarget says where. */
  proxy(ctx: SubresourceContext): Promise<void>;
  /** HTTP/1.1 Upgrade (WebSocket or SPDY) for exec, attach, portforward and the proxy subresources. */
  upgrade(ctx: UpgradeContext): Promise<void>;
}

type Handler = (ctx: SubresourceContext) => Promise<void>;

/** A subresource's request body, decoded as its typed kind. */
export async function readSubresourceBody(req: IncomingMessage, gvk: GroupVersionKind): Promise<Record<string, unknown>> {
  const raw = await readBody(req);
  let v: unknown;
  // client-go's typed clients send built-in kinds as protobuf (kubectl create token's TokenRequest).
  if (raw.length && bodyFormat(req.headers['content-type']) === 'protobuf') {
    v = decodeBodyDetailed(req.headers['content-type'], raw).object;
  } else {
    try {
      v = JSON.parse(raw.toString('utf8') || '{}');
    } catch {
      throw badRequest(`${gvk.kind}: couldn't decode the request body: ${jsonErrorMessage(raw)}`);
    }
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

/** log, exec, attach, portforward without an upgrade (only log is plain HTTP in practice), and proxy. */
export const serveConnect: Handler = async (ctx) => {
  if (ctx.store.kind.subresources[ctx.info.subresource]?.proxy) {
    if (!ctx.connect) throw serviceUnavailable(`the ${ctx.info.resource}/proxy subresource is not served here`);
    return ctx.connect.proxy(ctx);
  }
  const pod = (await ctx.store.get(ctx.info.namespace, ctx.info.name)) as Pod;
  if (!pod.spec?.nodeName) {
    const c = ctx.query.get('container') ?? pod.spec?.containers?.[0]?.name ?? '';
    throw badRequest(`container "${c}" in pod "${ctx.info.name}" is waiting to start: ContainerCreating`);
  }
  if (!ctx.connect) throw serviceUnavailable(`no node agent is serving ${ctx.info.subresource} for node "${pod.spec.nodeName}"`);
  await ctx.connect.serve(ctx, pod);
};

export { StatusError };
