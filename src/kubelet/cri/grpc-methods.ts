// Unary gRPC methods (path, request encoder, response decoder) for grpc-js, from a protobuf descriptor
// generated from our .proto files (./descriptors.ts, checked by descriptors.test.ts) rather than parsed
// at run time. @grpc/proto-loader parsed each .proto and then built reflection descriptors of every
// message and service, which the calls never use: ~80 ms of each node agent's start (three per
// `up --nodes 3`). The encoding is proto-loader's own, from the same protobufjs: a request is
// `fromObject` then `encode`, a response `decode` then `toObject` with the caller's conversion options
// (longs, enums, defaults...). Each method's message types are compiled on its first call.
//
// Callers: the CRI client, the image pull progress (containerd's content service), gRPC probes. One
// instance per descriptor; calls may come concurrently (all work is synchronous).
import protobuf from 'protobufjs/light.js';

export interface UnaryMethod<Req, Res> {
  /** "/package.Service/Method", as grpc-js sends it. */
  path: string;
  requestSerialize(req: Req): Buffer;
  responseDeserialize(buf: Buffer): Res;
}

export class GrpcMethods {
  readonly #descriptor: object;
  readonly #conversion: protobuf.IConversionOptions;
  #root: protobuf.Root | undefined;
  readonly #methods = new Map<string, UnaryMethod<unknown, unknown> | undefined>();

  /**
   * `descriptor`: protobufjs' JSON form of a root (Root.toJSON()); `conversion`: how responses become
   * objects (proto-loader's load options of the same names).
   */
  constructor(descriptor: object, conversion: protobuf.IConversionOptions) {
    this.#descriptor = descriptor;
    this.#conversion = conversion;
  }

  /** The method `name` of `service` (its full name, "package.Service"); undefined when the descriptor has none. */
  unary<Req, Res>(service: string, name: string): UnaryMethod<Req, Res> | undefined {
    const key = `${service}/${name}`;
    if (!this.#methods.has(key)) this.#methods.set(key, this.#build(service, name));
    return this.#methods.get(key) as UnaryMethod<Req, Res> | undefined;
  }

  #build(service: string, name: string): UnaryMethod<unknown, unknown> | undefined {
    // Root.fromJSON would resolve every type of the descriptor (the CRI's ~200) before the first call;
    // a method's types and what they refer to resolve as its encoder and decoder are generated, so only
    // what is called costs anything (the six calls of a node agent's start: 27 → 21 ms, medians of 4).
    // protobufjs' INamespace type wants a `comment` on every method, which its own toJSON leaves out.
    if (!this.#root) {
      this.#root = new protobuf.Root();
      this.#root.addJSON((this.#descriptor as protobuf.INamespace).nested ?? {});
    }
    const svc = this.#root.lookup(service);
    const method = svc instanceof protobuf.Service ? svc.methods[name] : undefined;
    if (!method || method.requestStream || method.responseStream) return undefined;
    method.resolve();
    const req = method.resolvedRequestType!;
    const res = method.resolvedResponseType!;
    const conversion = this.#conversion;
    return {
      path: `/${service}/${name}`,
      requestSerialize: (v) => {
        // proto-loader's check: an array would silently encode as an empty message.
        if (Array.isArray(v)) throw new Error(`Failed to serialize message: expected object with ${req.name} structure, got array instead`);
        return req.encode(req.fromObject(v as Record<string, unknown>)).finish() as Buffer;
      },
      responseDeserialize: (buf) => res.toObject(res.decode(buf), conversion),
    };
  }
}
