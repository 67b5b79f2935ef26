// The Status errors a patch can end in, shaped as kube-apiserver answers them
// (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go):
// - a body that does not decode as the patch kind → 400 BadRequest with the decoder's message;
// - a JSON patch whose operations fail (test mismatch, missing path...) → 422 from
//   NewGenericServerResponse: reason Invalid, the fixed message below and an empty details object
//   (the underlying reason is *not* sent; kubectl prints "The request is invalid: the server
//   rejected our request due to an error in our request");
// - a malformed strategic merge patch → 400 BadRequest with apimachinery's mergepatch message. The
//   real server answers some of these (no merge key, unknown $patch value) with a raw Go error,
//   i.e. 500; a malformed request is the client's fault, so tinykube answers 400 for all of them;
// - lists of lists in a strategic merge patch → 422 like the real server.

import { StatusError, badRequest } from '../../util/status.ts';
import { MAX_DEPTH } from './json.ts';

export const GENERIC_INVALID_MESSAGE = 'the server rejected our request due to an error in our request';

/** 422 Invalid as the apiserver sends it for a patch that does not apply. `detail` stays server-side (logs, tests). */
export class PatchApplyError extends StatusError {
  readonly detail: string;
  constructor(detail: string) {
    super(422, 'Invalid', GENERIC_INVALID_MESSAGE, {});
    this.detail = detail;
  }
}

export function decodeError(message: string): StatusError {
  return badRequest(`error decoding patch: ${message}`);
}

export function tooDeep(): StatusError {
  return decodeError(`the patch nests deeper than the maximum depth of ${MAX_DEPTH}`);
}

/** apimachinery/pkg/util/mergepatch sentinel messages (answered 400 by the apiserver). */
export const smpMessages = {
  badJSONDoc: 'invalid JSON document',
  primitiveList: 'invalid patch format of primitive list',
  retainKeys: 'invalid patch format of retainKeys',
  setElementOrder: 'invalid patch format of setElementOrder list',
  listOfLists: 'lists of lists are not supported',
} as const;

export function smpBadRequest(message: string): StatusError {
  return badRequest(message);
}
