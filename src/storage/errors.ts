// Coded storage errors. The registry maps them to Kubernetes Status errors.

import type { KeyValue } from './backend.ts';
import type { ErrorCode } from '../util/errors.ts';

export class StorageError extends Error {
  readonly code: ErrorCode;
  readonly key: string;
  constructor(code: ErrorCode, key: string, message: string) {
    super(message);
    this.name = 'StorageError';
    this.code = code;
    this.key = key;
  }
}

export class KeyExistsError extends StorageError {
  constructor(key: string) {
    super('ERR_STORAGE_KEY_EXISTS', key, `key exists: ${key}`);
  }
}

export class KeyNotFoundError extends StorageError {
  constructor(key: string) {
    super('ERR_STORAGE_KEY_NOT_FOUND', key, `key not found: ${key}`);
  }
}

export class RevisionMismatchError extends StorageError {
  readonly expected: number;
  readonly actual: number;
  /** The key's current value, so a retrying caller need not read it again (etcd returns it in the failed txn too). */
  readonly current?: KeyValue;
  constructor(key: string, expected: number, actual: number, current?: KeyValue) {
    super('ERR_STORAGE_REVISION_MISMATCH', key, `revision mismatch on ${key}: expected ${expected}, found ${actual}`);
    this.expected = expected;
    this.actual = actual;
    if (current !== undefined) this.current = current;
  }
}

export class CompactedError extends StorageError {
  readonly requested: number;
  readonly compacted: number;
  constructor(requested: number, compacted: number) {
    super('ERR_STORAGE_COMPACTED', '', `required revision ${requested} has been compacted (oldest available ${compacted})`);
    this.requested = requested;
    this.compacted = compacted;
  }
}

export class FutureRevisionError extends StorageError {
  readonly requested: number;
  readonly current: number;
  constructor(requested: number, current: number) {
    super('ERR_STORAGE_FUTURE_REVISION', '', `required revision ${requested} is newer than the current revision ${current}`);
    this.requested = requested;
    this.current = current;
  }
}

export class BackendClosedError extends StorageError {
  constructor() {
    super('ERR_STORAGE_CLOSED', '', 'storage backend is closed');
  }
}

/**
 * The most a single write may carry, key and value together: etcd's default `--max-request-bytes`
 * (1.5 MiB). etcd refuses larger requests; the SQLite backend applies the same limit, so both stores
 * accept the same objects, and no object grows so large that every list of its collection must
 * serialise it (a pod of 100,000 defaulted containers is 26 MB of JSON).
 */
export const MAX_REQUEST_BYTES = 1.5 * 1024 * 1024;

/** etcd's refusal of a write over its request limit, in etcd's words (kube-apiserver passes them on). */
export class RequestTooLargeError extends StorageError {
  constructor(key: string) {
    super('ERR_STORAGE_REQUEST_TOO_LARGE', key, 'etcdserver: request is too large');
  }
}

/**
 * Throws RequestTooLargeError when a write of `value` at `key` is over MAX_REQUEST_BYTES as etcd
 * counts it: the whole transaction, which names the key three times (compare, put, and the read of
 * a failed compare), plus framing.
 */
export function checkRequestSize(key: string, value: string): void {
  // UTF-8 is at most 3 bytes per UTF-16 unit: skip the exact count for writes that cannot be over.
  if ((3 * key.length + value.length) * 3 + REQUEST_FRAMING_BYTES <= MAX_REQUEST_BYTES) return;
  if (3 * Buffer.byteLength(key) + Buffer.byteLength(value) + REQUEST_FRAMING_BYTES > MAX_REQUEST_BYTES) throw new RequestTooLargeError(key);
}

/** What an etcd transaction adds to its keys and value (request header, compare and put fields, a key prefix). */
const REQUEST_FRAMING_BYTES = 512;
