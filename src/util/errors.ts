// Error codes. Every coded error class in tinykube (the failures that throw; expected outcomes are
// values) names its failure as ERR_<AREA>_<WHAT>, upper snake case, as Node's own errors and undici's
// do: ERR_FIELD_SELECTOR_PARSE, ERR_CRI_NOT_FOUND, ERR_STORAGE_KEY_EXISTS. The area is the subsystem
// (CRI, SPDY, STORAGE, REGISTRY_CONFIG...), the rest says what failed. Callers compare `err.code`,
// never messages. errors.test.ts checks every code under src/ against this shape.

/** An error code of this convention: `ERR_` then the area and what failed, upper snake case. */
export type ErrorCode = `ERR_${Uppercase<string>}`;

/** The shape as a pattern, for checks and tests. */
export const ERROR_CODE = /^ERR_[A-Z0-9]+(_[A-Z0-9]+)*$/;
