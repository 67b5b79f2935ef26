// Protobuf request bodies (`application/vnd.kubernetes.protobuf`), as kubectl's typed clientset
// sends them (`kubectl create namespace|configmap|secret|…`, `kubectl debug --copy-to` for a Pod).
// Every built-in kind and subresource body is decoded by the table-driven codec in ../protobuf/;
// this file turns its outcomes into the Statuses kube-apiserver answers.

import { StatusError, badRequest } from '../../util/status.ts';
import { decodeProtobufObject, type DecodedProtobuf } from '../protobuf/envelope.ts';
import { ProtoDecodeError } from '../protobuf/wire.ts';

/** Decodes a protobuf request body into the JSON shape of the object. Throws 400 for malformed bytes, 415 for a kind with no protobuf form. */
export function decodeProtobuf(body: Uint8Array): Record<string, unknown> {
  let decoded: DecodedProtobuf;
  try {
    decoded = decodeProtobufObject(body);
  } catch (err) {
    if (err instanceof ProtoDecodeError) throw badRequest(err.message);
    throw err;
  }
  if (!decoded.ok) {
    // Custom resources and kinds tinykube does not serve have no protobuf form (as in kube-apiserver,
    // where custom resources are JSON only).
    throw new StatusError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - protobuf is not supported for ${decoded.kind || 'this object'} (${decoded.apiVersion || 'unknown version'}); send it as application/json or application/yaml`,
    );
  }
  return decoded.object;
}
