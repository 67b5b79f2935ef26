// Accept-header negotiation for server-side transformations (`as=Table`, `as=PartialObjectMetadata`),
// following the real apiserver (goautoneg parsing + negotiation.NegotiateOutputMediaType +
// RequestScope.AllowsMediaTypeTransform). kubectl get sends
//   application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json
// and takes whichever the server accepts first; clauses are tried in q order (stable among equals,
// more specific before wildcards), and a clause whose transformation the server cannot do is skipped.

import type { TableVersion } from '../../registry/printing/types.ts';

export interface AcceptClause {
  type: string;
  subType: string;
  q: number;
  params: Record<string, string>;
}

/** goautoneg.ParseAccept: malformed ranges are dropped; q=0 clauses are kept (sorted last), as upstream. */
export function parseAccept(header: string): AcceptClause[] {
  const clauses: AcceptClause[] = [];
  for (const rawPart of header.split(',')) {
    const part = rawPart.trim();
    const [range, ...rawParams] = part.split(';');
    const sp = range.split('/');
    const type = sp[0].trim();
    let subType: string;
    if (sp.length === 1 && type === '*') subType = '*';
    else if (sp.length === 2) subType = sp[1].trim();
    else continue;
    const clause: AcceptClause = { type, subType, q: 1, params: {} };
    for (const param of rawParams) {
      const eq = param.indexOf('=');
      if (eq < 0) continue;
      const token = param.slice(0, eq).trim();
      const value = param.slice(eq + 1);
      if (token === 'q') {
        const q = Number.parseFloat(value);
        clause.q = Number.isNaN(q) ? 0 : q;
      } else {
        clause.params[token] = value.trim();
      }
    }
    clauses.push(clause);
  }
  // Array.prototype.sort is stable, like Go's insertion sort on these short lists.
  return clauses.sort((a, b) => {
    if (a.q !== b.q) return b.q - a.q;
    if (a.type !== b.type && (a.type === '*' || b.type === '*')) return a.type === '*' ? 1 : -1;
    if (a.subType !== b.subType && (a.subType === '*' || b.subType === '*')) return a.subType === '*' ? 1 : -1;
    return 0;
  });
}

export type ConversionKind = 'Table' | 'PartialObjectMetadata' | 'PartialObjectMetadataList';

export interface OutputNegotiation {
  /** The serializer to answer with, one of `supported`. */
  mediaType: string;
  /** Set when the client asked for a server-side transformation of the response. */
  convert?: { kind: ConversionKind; version: TableVersion };
  /** `pretty=1` was asked for. */
  pretty: boolean;
}

const DEFAULT_SUPPORTED = ['application/json', 'application/yaml'] as const;

function acceptClause(clause: AcceptClause, mediaType: string): OutputNegotiation | undefined {
  const { as, g, v, pretty } = clause.params;
  const out: OutputNegotiation = { mediaType, pretty: pretty === '1' };
  if (as === undefined && g === undefined && v === undefined) return out;
  // Only meta.k8s.io conversions exist; anything else (e.g. `;v=v1` alone) is not acceptable.
  if (g !== 'meta.k8s.io' || (v !== 'v1' && v !== 'v1beta1')) return undefined;
  if (as === 'Table') {
    if (mediaType !== 'application/json' && mediaType !== 'application/yaml') return undefined;
  } else if (as !== 'PartialObjectMetadata' && as !== 'PartialObjectMetadataList') {
    return undefined;
  }
  out.convert = { kind: as, version: v };
  return out;
}

/**
 * The response format for an Accept header, or undefined when nothing acceptable is offered
 * (the caller answers 406 NotAcceptable). An absent or empty header means the first supported type.
 */
export function negotiateOutput(accept: string | undefined, supported: readonly string[] = DEFAULT_SUPPORTED): OutputNegotiation | undefined {
  if (!accept || accept.trim() === '') return supported.length > 0 ? { mediaType: supported[0], pretty: false } : undefined;
  for (const clause of parseAccept(accept)) {
    for (const mediaType of supported) {
      const [type, subType] = mediaType.split('/');
      const matches = (clause.type === type && (clause.subType === subType || clause.subType === '*'))
        || (clause.type === '*' && clause.subType === '*');
      if (!matches) continue;
      const out = acceptClause(clause, mediaType);
      if (out) return out;
    }
  }
  return undefined;
}

/** The Table version and serializer when the client's preferred acceptable format is a Table. */
export function negotiateTable(accept: string | undefined, supported?: readonly string[]): { version: TableVersion; mediaType: string } | undefined {
  const out = negotiateOutput(accept, supported);
  return out?.convert?.kind === 'Table' ? { version: out.convert.version, mediaType: out.mediaType } : undefined;
}

/** True when the response should be a meta.k8s.io Table (v1 or v1beta1). */
export function wantsTable(accept: string | undefined): boolean {
  return negotiateTable(accept) !== undefined;
}
