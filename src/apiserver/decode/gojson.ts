// The syntax error Go's encoding/json reports for a body that is not valid JSON, so a client reads
// what kube-apiserver would say ("invalid character 'x' looking for beginning of value",
// "unexpected end of JSON input") rather than V8's JSON.parse wording. It scans as Go's scanner
// does (checkValid runs over the whole input before decoding): the first offending byte and the
// state it was met in. Iterative, since bodies are untrusted. Pure.

const EOF_MESSAGE = 'unexpected end of JSON input';

/** A byte as Go's quoteChar prints it. */
function quoteChar(c: number): string {
  if (c === 0x27) return `'\\''`;
  if (c === 0x22) return `'"'`;
  const named: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 0x5c: '\\\\' };
  if (named[c] !== undefined) return `'${named[c]}'`;
  // string(c) of a byte is the rune U+00XX; strconv.Quote escapes what is not printable.
  if (c < 0x20 || c === 0x7f) return `'\\x${c.toString(16).padStart(2, '0')}'`;
  if ((c >= 0x80 && c < 0xa0) || c === 0xad) return `'\\u00${c.toString(16).padStart(2, '0')}'`;
  return `'${String.fromCharCode(c)}'`;
}

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isHex = (c: number) => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);

/** Go's error message for `data`, or undefined when it is valid JSON. */
export function goJsonSyntaxError(data: Uint8Array): string | undefined {
  let pos = 0;
  const n = data.length;
  const bad = (context: string) => `invalid character ${quoteChar(data[pos]!)} ${context}`;
  const ws = () => {
    while (pos < n && isSpace(data[pos]!)) pos++;
  };
  const stack: ('object' | 'array')[] = [];

  /** Scans a string from its opening quote; an error message or undefined. */
  const scanString = (): string | undefined => {
    pos++;
    for (;;) {
      if (pos >= n) return EOF_MESSAGE;
      const c = data[pos]!;
      if (c === 0x22) {
        pos++;
        return undefined;
      }
      if (c === 0x5c) {
        pos++;
        if (pos >= n) return EOF_MESSAGE;
        const e = data[pos]!;
        if (e === 0x75) {
          pos++;
          for (let i = 0; i < 4; i++, pos++) {
            if (pos >= n) return EOF_MESSAGE;
            if (!isHex(data[pos]!)) return bad('in \\u hexadecimal character escape');
          }
          continue;
        }
        if (!'"\\/bfnrt'.includes(String.fromCharCode(e))) return bad('in string escape code');
        pos++;
        continue;
      }
      if (c < 0x20) return bad('in string literal');
      pos++;
    }
  };

  const scanNumber = (): string | undefined => {
    if (data[pos] === 0x2d) {
      pos++;
      if (pos >= n) return EOF_MESSAGE;
      if (!isDigit(data[pos]!)) return bad('in numeric literal');
    }
    if (data[pos] === 0x30) pos++;
    else while (pos < n && isDigit(data[pos]!)) pos++;
    if (pos < n && data[pos] === 0x2e) {
      pos++;
      if (pos >= n) return EOF_MESSAGE;
      if (!isDigit(data[pos]!)) return bad('after decimal point in numeric literal');
      while (pos < n && isDigit(data[pos]!)) pos++;
    }
    if (pos < n && (data[pos] === 0x65 || data[pos] === 0x45)) {
      pos++;
      if (pos >= n) return EOF_MESSAGE;
      if (data[pos] === 0x2b || data[pos] === 0x2d) {
        pos++;
        if (pos >= n) return EOF_MESSAGE;
      }
      if (!isDigit(data[pos]!)) return bad('in exponent of numeric literal');
      while (pos < n && isDigit(data[pos]!)) pos++;
    }
    return undefined;
  };

  const scanLiteral = (word: string): string | undefined => {
    pos++;
    for (let i = 1; i < word.length; i++, pos++) {
      if (pos >= n) return EOF_MESSAGE;
      if (data[pos] !== word.charCodeAt(i)) return bad(`in literal ${word} (expecting '${word[i]}')`);
    }
    return undefined;
  };

  let mode: 'value' | 'key' | 'after' = 'value';
  for (;;) {
    if (mode === 'value') {
      ws();
      if (pos >= n) return EOF_MESSAGE;
      const c = data[pos]!;
      let err: string | undefined;
      if (c === 0x7b) {
        pos++;
        ws();
        if (pos >= n) return EOF_MESSAGE;
        if (data[pos] === 0x7d) {
          pos++;
          mode = 'after';
          continue;
        }
        if (data[pos] !== 0x22) return bad('looking for beginning of object key string');
        stack.push('object');
        mode = 'key';
        continue;
      }
      if (c === 0x5b) {
        pos++;
        ws();
        if (pos >= n) return EOF_MESSAGE;
        if (data[pos] === 0x5d) {
          pos++;
          mode = 'after';
          continue;
        }
        stack.push('array');
        continue;
      }
      if (c === 0x22) err = scanString();
      else if (c === 0x2d || isDigit(c)) err = scanNumber();
      else if (c === 0x74) err = scanLiteral('true');
      else if (c === 0x66) err = scanLiteral('false');
      else if (c === 0x6e) err = scanLiteral('null');
      else return bad('looking for beginning of value');
      if (err) return err;
      mode = 'after';
    } else if (mode === 'key') {
      const err = scanString();
      if (err) return err;
      ws();
      if (pos >= n) return EOF_MESSAGE;
      if (data[pos] !== 0x3a) return bad('after object key');
      pos++;
      mode = 'value';
    } else {
      ws();
      const top = stack.at(-1);
      if (top === undefined) return pos < n ? bad('after top-level value') : undefined;
      if (pos >= n) return EOF_MESSAGE;
      const c = data[pos]!;
      if (top === 'object') {
        if (c === 0x2c) {
          pos++;
          ws();
          if (pos >= n) return EOF_MESSAGE;
          if (data[pos] !== 0x22) return bad('looking for beginning of object key string');
          mode = 'key';
        } else if (c === 0x7d) {
          pos++;
          stack.pop();
        } else return bad('after object key:value pair');
      } else if (c === 0x2c) {
        pos++;
        mode = 'value';
      } else if (c === 0x5d) {
        pos++;
        stack.pop();
      } else return bad('after array element');
    }
  }
}

/** Go's message for a body JSON.parse refused (V8 refuses nothing Go accepts but nesting past its own limit). */
export function jsonErrorMessage(data: Uint8Array): string {
  return goJsonSyntaxError(data) ?? 'exceeded max depth';
}

/** The JSON type name encoding/json's UnmarshalTypeError uses ("cannot unmarshal array into ..."). */
export function goJsonType(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'string') return 'string';
  return v === null ? 'null' : 'object';
}

/** kube-apiserver's summarizeData: the body's first 30 bytes, as text when it starts like an object, else in hex. */
export function summarizeBody(data: Uint8Array, maxLength = 30): string {
  if (data.length === 0) return '<empty>';
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const head = b.subarray(0, maxLength);
  const more = b.length > maxLength ? ' ...' : '';
  return (b[0] === 0x7b ? head.toString('utf8') : head.toString('hex')) + more;
}
