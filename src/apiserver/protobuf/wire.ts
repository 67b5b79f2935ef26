// The protobuf wire format: a bounds-checked reader for untrusted bytes and a growable writer.
// Errors read like gogo-protobuf's (which kube-apiserver's decoder uses), as ProtoDecodeError.

export class ProtoDecodeError extends Error {
  override readonly name = 'ProtoDecodeError';
}

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_BYTES = 2;
export const WIRE_FIXED32 = 5;

export class ProtoReader {
  readonly #buf: Uint8Array;
  #pos: number;
  readonly #end: number;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.#buf = buf;
    this.#pos = start;
    this.#end = end;
  }

  done(): boolean {
    return this.#pos >= this.#end;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.#pos >= this.#end) throw new ProtoDecodeError('unexpected EOF');
      const b = this.#buf[this.#pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return BigInt.asUintN(64, result);
      shift += 7n;
      if (shift > 63n) throw new ProtoDecodeError('proto: integer overflow');
    }
  }

  /** A tag: field number and wire type. */
  tag(): { field: number; wire: number } {
    const t = this.varint();
    if (t > 0xffffffffn) throw new ProtoDecodeError('proto: integer overflow');
    const n = Number(t);
    const field = Math.floor(n / 8);
    const wire = n % 8;
    if (field <= 0) throw new ProtoDecodeError(`proto: illegal tag ${field} (wire type ${wire})`);
    return { field, wire };
  }

  bytes(): Uint8Array {
    const len = this.varint();
    if (BigInt.asIntN(64, len) < 0n) throw new ProtoDecodeError('proto: negative length found during unmarshaling');
    if (len > BigInt(this.#end - this.#pos)) throw new ProtoDecodeError('unexpected EOF');
    const n = Number(len);
    const out = this.#buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  fixed64(): DataView {
    return this.#fixed(8);
  }

  fixed32(): DataView {
    return this.#fixed(4);
  }

  #fixed(n: number): DataView {
    if (this.#pos + n > this.#end) throw new ProtoDecodeError('unexpected EOF');
    const v = new DataView(this.#buf.buffer, this.#buf.byteOffset + this.#pos, n);
    this.#pos += n;
    return v;
  }

  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_FIXED64:
        this.#fixed(8);
        return;
      case WIRE_BYTES:
        this.bytes();
        return;
      case WIRE_FIXED32:
        this.#fixed(4);
        return;
      default:
        // Groups (3, 4) are not used by any Kubernetes message; 6 and 7 do not exist.
        throw new ProtoDecodeError(`proto: illegal wireType ${wire}`);
    }
  }
}

export class ProtoWriter {
  #buf = new Uint8Array(256);
  #len = 0;

  #grow(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }

  varint(v: bigint | number): void {
    let x = BigInt.asUintN(64, BigInt(v));
    this.#grow(10);
    while (x > 0x7fn) {
      this.#buf[this.#len++] = Number(x & 0x7fn) | 0x80;
      x >>= 7n;
    }
    this.#buf[this.#len++] = Number(x);
  }

  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  raw(b: Uint8Array): void {
    this.#grow(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
  }

  /** A length-delimited field. */
  bytesField(field: number, b: Uint8Array): void {
    this.tag(field, WIRE_BYTES);
    this.varint(b.length);
    this.raw(b);
  }

  double(v: number): void {
    this.#grow(8);
    new DataView(this.#buf.buffer, this.#len, 8).setFloat64(0, v, true);
    this.#len += 8;
  }

  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}
