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
