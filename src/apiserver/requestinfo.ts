// Parses a request path into what it addresses, as the apiserver's RequestInfoFactory does:
//   /api/v1/namespaces/{ns}/{resource}[/{name}[/{subresource}]]
//   /api/v1/{resource}[/{name}[/{subresource}]]          (cluster-scoped, or all namespaces for lists)
//   /apis/{group}/{version}/...                          (same shapes)
// Pure; called once per request.

import { queryFlag } from '../api/queryparams.ts';

export interface ResourceRequest {
  kind: 'resource';
  group: string;
  version: string;
  /** Namespace from the path ("" when none). */
  namespace: string;
  resource: string;
  name: string;
  subresource: string;
  /** Extra path segments after a subresource (proxy paths). */
  rest: string[];
  /** get, list, watch, create, update, patch, delete, deletecollection (exec by POST is "create", as in Kubernetes). */
  verb: string;
}

export interface OtherRequest {
  kind: 'other';
  path: string;
}

export type RequestInfo = ResourceRequest | OtherRequest;

export function parseRequestInfo(method: string, pathname: string, query: URLSearchParams): RequestInfo {
  const parts = pathname.split('/').filter((p) => p !== '');
  let i: number;
  let group = '';
  let version: string;
  if (parts[0] === 'api' && parts.length >= 3) {
    version = parts[1]!;
    i = 2;
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1]!;
    version = parts[2]!;
    i = 3;
  } else {
    return { kind: 'other', path: pathname };
  }
  let seg = parts.slice(i).map(decodeSegment);
  let namespace = '';
  // /namespaces/{ns}/{resource}... addresses a namespaced resource; /namespaces/{name}[/status|/finalize]
  // is the namespace itself (the namespace's own subresources, as Kubernetes' RequestInfoFactory has them).
  if (seg[0] === 'namespaces' && seg.length >= 3 && !(seg.length === 3 && (seg[2] === 'status' || seg[2] === 'finalize'))) {
    namespace = seg[1]!;
    seg = seg.slice(2);
  }
  const [resource = '', name = '', subresource = '', ...rest] = seg;
  if (seg[0] === 'namespaces' && seg.length >= 2) {
    // the namespace object: /namespaces/{name}[/status|/finalize]
    namespace = '';
  }
  const verb = verbOf(method, name, query);
  return { kind: 'resource', group, version, namespace, resource, name, subresource, rest, verb };
}

function verbOf(method: string, name: string, query: URLSearchParams): string {
  switch (method) {
    case 'GET':
    case 'HEAD':
      if (name) return 'get';
      return queryFlag(query, 'watch') ? 'watch' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return name ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
