// Query parameters of list, watch and delete requests, read as the apiserver's parameter codec
// reads them: integers through strconv.ParseInt (a value that does not parse is a 400, never
// silently ignored), booleans with ../api/queryparams.ts, then the rules of
// ValidateListOptions (422 on ListOptions.meta.k8s.io).
//
// Called by the REST handlers once per request; pure.

import { FieldPath, forbiddenField, invalidError, notSupported, type FieldError } from '../api/field.ts';
import { badRequest } from '../util/status.ts';
import { queryBool } from '../api/queryparams.ts';

export interface ListOptions {
  labelSelector: string | null;
  fieldSelector: string | null;
  /** Positive page size, or undefined for everything (0 and negative values mean no limit). */
  limit: number | undefined;
  continue: string | undefined;
  resourceVersion: string | undefined;
  resourceVersionMatch: string | undefined;
  timeoutSeconds: number | undefined;
  allowWatchBookmarks: boolean;
}

const int64Max = 2n ** 63n - 1n;
const int64Min = -(2n ** 63n);

/**
 * An int64 query parameter: undefined when absent or empty, a 400 with Go's strconv message when it
 * does not parse (`+5` and `-5` parse; ` 5`, `5.0`, `0x5` do not).
 */
export function queryInt64(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  if (!/^[+-]?\d+$/.test(raw)) throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(raw)}: invalid syntax`);
  const big = BigInt(raw);
  if (big > int64Max || big < int64Min) throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(raw)}: value out of range`);
  return Number(big);
}

export function parseListOptions(query: URLSearchParams, watch: boolean): ListOptions {
  const limit = queryInt64(query, 'limit');
  const opts: ListOptions = {
    labelSelector: query.get('labelSelector'),
    fieldSelector: query.get('fieldSelector'),
    limit: limit !== undefined && limit > 0 ? limit : undefined,
    continue: query.get('continue') || undefined,
    resourceVersion: query.get('resourceVersion') ?? undefined,
    resourceVersionMatch: query.get('resourceVersionMatch') || undefined,
    timeoutSeconds: queryInt64(query, 'timeoutSeconds'),
    allowWatchBookmarks: queryBool(query, 'allowWatchBookmarks') ?? false,
  };
  const sendInitialEvents = queryBool(query, 'sendInitialEvents');
  const errs = watch ? validateWatch(opts, sendInitialEvents) : validateList(opts, sendInitialEvents);
  if (errs.length) throw invalidError('ListOptions', '', errs, 'meta.k8s.io');
  return opts;
}

const rvMatch = new FieldPath('resourceVersionMatch');

function validateList(o: ListOptions, sendInitialEvents: boolean | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const match = o.resourceVersionMatch;
  if (match) {
    if (!o.resourceVersion) errs.push(forbiddenField(rvMatch, 'resourceVersionMatch is forbidden unless resourceVersion is provided'));
    if (o.continue) errs.push(forbiddenField(rvMatch, 'resourceVersionMatch is forbidden when continue is provided'));
    if (match === 'Exact' && o.resourceVersion === '0') errs.push(forbiddenField(rvMatch, 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'));
    else if (match !== 'Exact' && match !== 'NotOlderThan') errs.push(notSupported(rvMatch, match, ['Exact', 'NotOlderThan', '']));
  }
  if (sendInitialEvents !== undefined) errs.push(forbiddenField(new FieldPath('sendInitialEvents'), 'sendInitialEvents is forbidden for list'));
  return errs;
}

// tinykube does not implement streaming lists (the WatchList feature): a watch asking for them is
// refused as a server with the feature gate off refuses it, so clients fall back to list+watch.
function validateWatch(o: ListOptions, sendInitialEvents: boolean | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const match = o.resourceVersionMatch;
  if (sendInitialEvents !== undefined) {
    if (match !== 'NotOlderThan') errs.push(forbiddenField(rvMatch, 'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan'));
    errs.push(forbiddenField(new FieldPath('sendInitialEvents'), 'sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled'));
  }
  if (match) {
    if (sendInitialEvents === undefined) errs.push(forbiddenField(rvMatch, 'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided'));
    if (match !== 'NotOlderThan') errs.push(notSupported(rvMatch, match, ['NotOlderThan']));
    if (o.continue) errs.push(forbiddenField(rvMatch, 'resourceVersionMatch is forbidden when continue is provided'));
  }
  return errs;
}
