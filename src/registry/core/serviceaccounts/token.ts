// serviceaccounts/token: TokenRequest (authentication.k8s.io/v1), as kube-apiserver's TokenREST.
// Checks what the token is to be bound to (a pod running as this account, a secret or a node, with
// the uid given), and answers the request with a signed token. Nothing is stored: a token is valid
// while what it names exists (src/apiserver/auth/serviceaccount/tokens.ts checks that on use).

import { FieldPath, invalid, invalidError, type FieldError } from '../../../api/field.ts';
import type { KubeObject, Pod, ServiceAccount } from '../../../api/types.ts';
import { badRequest, conflict, notFound, StatusError } from '../../../util/status.ts';
import type { SubresourceCreateContext, SubresourceDefinition } from '../../kind.ts';

export interface ObjectRef {
  name: string;
  uid: string;
}

/** What a bound token says: the account, what it is bound to, for whom and how long. */
export interface BoundTokenSpec {
  namespace: string;
  serviceAccount: ObjectRef;
  pod?: ObjectRef;
  /** With a pod: the node it runs on, when it has one (kube 1.30+ puts it in the token). */
  node?: ObjectRef;
  secret?: ObjectRef;
  audiences: string[];
  expirationSeconds: number;
}

export interface IssuedToken {
  token: string;
  /** RFC 3339. */
  expirationTimestamp: string;
}

/** Signs service-account tokens (the API server's ServiceAccountTokens). */
export interface TokenSigner {
  /** The API server's own audiences: a request naming none gets these. */
  readonly apiAudiences: readonly string[];
  issue(spec: BoundTokenSpec): Promise<IssuedToken>;
}

const MIN_EXPIRATION_SECONDS = 600;
const MAX_EXPIRATION_SECONDS = 2 ** 32;
const DEFAULT_EXPIRATION_SECONDS = 3600;

export const tokenSubresource: SubresourceDefinition<ServiceAccount> = {
  verbs: ['create'],
  kind: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' },
  openapi: true,
  create: requestToken,
};

interface TokenRequestBody {
  metadata?: { name?: unknown; namespace?: unknown };
  spec?: {
    audiences?: unknown;
    expirationSeconds?: unknown;
    boundObjectRef?: { kind?: unknown; apiVersion?: unknown; name?: unknown; uid?: unknown } | null;
  };
}

async function requestToken(ctx: SubresourceCreateContext): Promise<KubeObject> {
  const body = ctx.body as TokenRequestBody;
  const ns = ctx.namespace ?? '';
  const metaName = typeof body.metadata?.name === 'string' ? body.metadata.name : '';
  const metaNs = typeof body.metadata?.namespace === 'string' ? body.metadata.namespace : '';
  if (metaNs && metaNs !== ns) throw badRequest(`namespace of the provided TokenRequest object (${metaNs}) does not match the namespace sent on the request (${ns})`);
  if (metaName && metaName !== ctx.name) throw badRequest(`name of the provided TokenRequest object (${metaName}) does not match the name sent on the request (${ctx.name})`);
  const spec = body.spec ?? {};
  const audiences = Array.isArray(spec.audiences) ? spec.audiences.filter((a): a is string => typeof a === 'string') : [];
  const expirationSeconds = typeof spec.expirationSeconds === 'number' ? spec.expirationSeconds : DEFAULT_EXPIRATION_SECONDS;
  const errs: FieldError[] = [];
  if (expirationSeconds < MIN_EXPIRATION_SECONDS) errs.push(invalid(new FieldPath('spec.expirationSeconds'), expirationSeconds, 'may not specify a duration less than 10 minutes'));
  if (expirationSeconds > MAX_EXPIRATION_SECONDS) errs.push(invalid(new FieldPath('spec.expirationSeconds'), expirationSeconds, 'may not specify a duration larger than 2^32 seconds'));
  if (errs.length) throw invalidError('TokenRequest', ctx.name, errs, 'authentication.k8s.io');
  if (!ctx.tokens) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');

  const account = await ctx.store.tryGet(ns, ctx.name);
  if (!account) throw notFound('serviceaccounts', ctx.name);
  const out: { namespace: string; serviceAccount: ObjectRef; pod?: ObjectRef; node?: ObjectRef; secret?: ObjectRef } = {
    namespace: ns,
    serviceAccount: { name: ctx.name, uid: account.metadata?.uid ?? '' },
  };
  const ref = spec.boundObjectRef;
  if (ref) {
    const kind = typeof ref.kind === 'string' ? ref.kind : '';
    const apiVersion = typeof ref.apiVersion === 'string' ? ref.apiVersion : '';
    const name = typeof ref.name === 'string' ? ref.name : '';
    const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
    const version = apiVersion.includes('/') ? apiVersion.slice(apiVersion.indexOf('/') + 1) : apiVersion;
    const read = async (resource: string, namespace: string | undefined): Promise<KubeObject> => {
      const obj = await ctx.stores.tryStore(resource)?.tryGet(namespace, name);
      if (!obj) throw notFound(resource, name);
      return obj;
    };
    let bound: KubeObject;
    if (group === '' && kind === 'Pod') {
      bound = await read('pods', ns);
      const podAccount = (bound as Pod).spec?.serviceAccountName ?? '';
      if (podAccount !== ctx.name) throw badRequest(`cannot bind token for serviceaccount ${JSON.stringify(ctx.name)} to pod running with serviceaccount ${JSON.stringify(podAccount)}`);
      out.pod = { name, uid: bound.metadata?.uid ?? '' };
      const nodeName = (bound as Pod).spec?.nodeName;
      const node = nodeName ? await ctx.stores.tryStore('nodes')?.tryGet(undefined, nodeName) : undefined;
      if (node) out.node = { name: nodeName!, uid: node.metadata?.uid ?? '' };
    } else if (group === '' && kind === 'Secret') {
      bound = await read('secrets', ns);
      out.secret = { name, uid: bound.metadata?.uid ?? '' };
    } else if (group === '' && kind === 'Node') {
      bound = await read('nodes', undefined);
      out.node = { name, uid: bound.metadata?.uid ?? '' };
    } else {
      // Go prints a GroupVersionKind as "group/version, Kind=kind".
      throw badRequest(`cannot bind token to object of type ${group}/${version}, Kind=${kind}`);
    }
    const uid = typeof ref.uid === 'string' ? ref.uid : '';
    if (uid && uid !== bound.metadata?.uid) {
      throw conflict(kind, name, `the UID in the bound object reference (${uid}) does not match the UID in record (${bound.metadata?.uid}). The object might have been deleted and then recreated`);
    }
  }
  // A dry run checks everything and signs nothing.
  const issued = ctx.dryRun ? { token: '', expirationTimestamp: '' } : await ctx.tokens.issue({ ...out, audiences, expirationSeconds });
  const status: Record<string, unknown> = { token: issued.token, expirationTimestamp: issued.expirationTimestamp || null };
  const outSpec: Record<string, unknown> = { audiences: audiences.length ? audiences : ctx.tokens.apiAudiences, expirationSeconds };
  if (ref) outSpec.boundObjectRef = ref;
  else outSpec.boundObjectRef = null;
  return {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { name: ctx.name, namespace: ns, creationTimestamp: null },
    spec: outSpec,
    status,
  } as unknown as KubeObject;
}
