// Impersonation (`kubectl --as`, `--as-group`, `--as-uid`): the Impersonate-User, Impersonate-Group,
// Impersonate-Uid and Impersonate-Extra-<key> headers make the request run as another user, once the
// caller is allowed to impersonate each of them (verb "impersonate" on users, groups, uids,
// serviceaccounts and userextras/<key>, as kube-apiserver's impersonation filter asks the authorizer).
//
// One deviation, chosen: malformed impersonation headers (a group without a user...) are a 400
// BadRequest here; kube-apiserver answers them with a 500 InternalError carrying the same message.

import { badRequest } from '../../util/status.ts';
import type { AuthorizationAttributes } from './authorizer.ts';
import type { User } from './user.ts';

const SA_PREFIX = 'system:serviceaccount:';

export interface ImpersonationRequest {
  user: string;
  groups: string[];
  uid?: string;
  extra: Record<string, string[]>;
}

/**
 * The impersonation the headers ask for, or undefined when they ask for none. Throws 400 on malformed
 * headers. Takes each header's values apart (Node's `headersDistinct`): a repeated Impersonate-Group is
 * one group per header, as kubectl sends them, never a comma-joined list.
 */
export function parseImpersonation(headers: Record<string, string[] | undefined>): ImpersonationRequest | undefined {
  const userH = headers['impersonate-user'] ?? [];
  if (userH.length > 1) throw badRequest('Impersonate-User may be given only once');
  const user = userH[0]?.trim() ?? '';
  const groups = (headers['impersonate-group'] ?? []).map((g) => g.trim()).filter((g) => g !== '');
  const uidH = headers['impersonate-uid'];
  const uid = uidH?.[0]?.trim();
  const extra: Record<string, string[]> = {};
  for (const [name, v] of Object.entries(headers)) {
    if (!name.startsWith('impersonate-extra-') || !v) continue;
    let key: string;
    try {
      key = decodeURIComponent(name.slice('impersonate-extra-'.length)).toLowerCase();
    } catch {
      throw badRequest(`the Impersonate-Extra- header ${JSON.stringify(name)} has a malformed key`);
    }
    if (!key) throw badRequest('an Impersonate-Extra- header needs a key');
    extra[key] = v.map((x) => x.trim()).filter((x) => x !== '');
  }
  const asked = user !== '' || groups.length > 0 || uid !== undefined || Object.keys(extra).length > 0;
  if (!asked) return undefined;
  if (user === '') {
    const what = [...groups.map((g) => `{Group  ${g}}`), ...(uid ? [`{UID  ${uid}}`] : []), ...Object.keys(extra).map((k) => `{UserExtra ${k}}`)];
    throw badRequest(`requested [${what.join(' ')}] without impersonating a user`);
  }
  return { user, groups, ...(uid !== undefined ? { uid } : {}), extra };
}

/** The authorization checks an impersonation needs, one per thing impersonated. */
export function impersonationChecks(requester: User, imp: ImpersonationRequest): AuthorizationAttributes[] {
  const base = { user: requester, verb: 'impersonate', isResourceRequest: true, apiVersion: '', subresource: '', path: '' };
  const out: AuthorizationAttributes[] = [];
  if (imp.user.startsWith(SA_PREFIX)) {
    const [ns = '', name = ''] = imp.user.slice(SA_PREFIX.length).split(':');
    out.push({ ...base, apiGroup: '', resource: 'serviceaccounts', namespace: ns, name });
  } else {
    out.push({ ...base, apiGroup: '', resource: 'users', namespace: '', name: imp.user });
  }
  for (const g of imp.groups) out.push({ ...base, apiGroup: '', resource: 'groups', namespace: '', name: g });
  if (imp.uid !== undefined) out.push({ ...base, apiGroup: 'authentication.k8s.io', resource: 'uids', namespace: '', name: imp.uid });
  for (const [k, vs] of Object.entries(imp.extra)) for (const v of vs) out.push({ ...base, apiGroup: 'authentication.k8s.io', resource: 'userextras', subresource: k, namespace: '', name: v });
  return out;
}

/** The user a request runs as once its impersonation is allowed (kube-apiserver adds the groups it would have). */
export function impersonatedUser(imp: ImpersonationRequest): User {
  const groups = [...imp.groups];
  if (imp.user.startsWith(SA_PREFIX) && groups.length === 0) {
    const ns = imp.user.slice(SA_PREFIX.length).split(':')[0] ?? '';
    groups.push('system:serviceaccounts', `system:serviceaccounts:${ns}`);
  }
  if (imp.user !== 'system:anonymous' && !groups.includes('system:authenticated')) groups.push('system:authenticated');
  if (imp.user === 'system:anonymous' && !groups.includes('system:unauthenticated')) groups.push('system:unauthenticated');
  return { name: imp.user, groups, via: 'impersonation', ...(imp.uid !== undefined ? { uid: imp.uid } : {}), ...(Object.keys(imp.extra).length ? { extra: imp.extra } : {}) };
}
