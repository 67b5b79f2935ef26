// Coded runtime errors. The CRI client maps gRPC status codes to these; FakeRuntime throws the same
// ones, so the pod workers handle one error vocabulary whatever runtime is underneath.

export type CriErrorCode =
  | 'ERR_CRI_NOT_FOUND'
  | 'ERR_CRI_ALREADY_EXISTS'
  | 'ERR_CRI_INVALID_ARGUMENT'
  | 'ERR_CRI_FAILED_PRECONDITION'
  | 'ERR_CRI_DEADLINE_EXCEEDED'
  | 'ERR_CRI_UNAVAILABLE'
  | 'ERR_CRI_UNIMPLEMENTED'
  | 'ERR_CRI_CANCELLED'
  | 'ERR_CRI_UNKNOWN';

/** gRPC status code numbers (grpc/doc/statuscodes.md), kept here so fakes need no gRPC import. */
export const GRPC_CODE = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  FAILED_PRECONDITION: 9,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

const BY_GRPC: Record<number, CriErrorCode> = {
  [GRPC_CODE.CANCELLED]: 'ERR_CRI_CANCELLED',
  [GRPC_CODE.INVALID_ARGUMENT]: 'ERR_CRI_INVALID_ARGUMENT',
  [GRPC_CODE.DEADLINE_EXCEEDED]: 'ERR_CRI_DEADLINE_EXCEEDED',
  [GRPC_CODE.NOT_FOUND]: 'ERR_CRI_NOT_FOUND',
  [GRPC_CODE.ALREADY_EXISTS]: 'ERR_CRI_ALREADY_EXISTS',
  [GRPC_CODE.FAILED_PRECONDITION]: 'ERR_CRI_FAILED_PRECONDITION',
  [GRPC_CODE.UNIMPLEMENTED]: 'ERR_CRI_UNIMPLEMENTED',
  [GRPC_CODE.UNAVAILABLE]: 'ERR_CRI_UNAVAILABLE',
};

export class CriError extends Error {
  readonly code: CriErrorCode;
  /** The RPC that failed ("RunPodSandbox"), or the fake's operation name. */
  readonly method: string;
  /** The gRPC status code as received (2 = UNKNOWN for containerd's plain errors). */
  readonly grpcCode: number;
  constructor(code: CriErrorCode, method: string, message: string, grpcCode: number = GRPC_CODE.UNKNOWN) {
    super(`${method}: ${message}`);
    this.name = 'CriError';
    this.code = code;
    this.method = method;
    this.grpcCode = grpcCode;
  }
  /** The runtime's own text without the "Method: " prefix (what kubelet puts in a status message). */
  get detail(): string {
    return this.message.slice(this.method.length + 2);
  }
}

export function criErrorFromGrpc(method: string, grpcCode: number, details: string): CriError {
  return new CriError(BY_GRPC[grpcCode] ?? 'ERR_CRI_UNKNOWN', method, details, grpcCode);
}

export function isCriNotFound(err: unknown): boolean {
  return err instanceof CriError && err.code === 'ERR_CRI_NOT_FOUND';
}

