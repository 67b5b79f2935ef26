// Kubernetes resource quantities ("500m", "128Mi", "1e3"), parsed and printed exactly as
// apimachinery's resource.Quantity does. The scheduler, the kubelet (cgroups) and validation
// all compare quantities, so they must agree with the real apiserver to the last nano-unit.
//
// A quantity is held as a BigInt count of nano-units (10^-9): apimachinery rounds every parsed
// value up to that scale, so sums and comparisons here are exact.

/** The three serialisation families; a parsed quantity remembers which one it came from. */
export type QuantityFormat = 'DecimalExponent' | 'BinarySI' | 'DecimalSI';

export interface Quantity {
  /** Exact value in nano-units (value × 10^9). */
  readonly nanos: bigint;
  /** How `formatQuantity` prints it (as Kubernetes: the format of the original suffix). */
  readonly format: QuantityFormat;
}

export type QuantityErrorCode = 'ERR_QUANTITY_FORMAT' | 'ERR_QUANTITY_NUMERIC' | 'ERR_QUANTITY_SUFFIX';

/** Thrown by parseQuantity; `message` is apimachinery's text (the apiserver prints it in 400s). */
export class QuantityError extends Error {
  readonly code: QuantityErrorCode;
  constructor(code: QuantityErrorCode, message: string) {
    super(message);
    this.name = 'QuantityError';
    this.code = code;
  }
}

const splitRE = '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$';
export const QUANTITY_FORMAT_MESSAGE = `quantities must match the regular expression '${splitRE}'`;
const errFormat = (): QuantityError => new QuantityError('ERR_QUANTITY_FORMAT', QUANTITY_FORMAT_MESSAGE);
const errNumeric = (): QuantityError => new QuantityError('ERR_QUANTITY_NUMERIC', 'unable to parse numeric part of quantity');
const errSuffix = (): QuantityError => new QuantityError('ERR_QUANTITY_SUFFIX', "unable to parse quantity's suffix");

const NANO = 1_000_000_000n;
const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);

const decimalSuffixes: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const binarySuffixes: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const decimalSuffixByExp = new Map<number, string>(Object.entries(decimalSuffixes).map(([s, e]) => [e, s]));
const binarySuffixByPow = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

const isDigit = (c: string): boolean => c >= '0' && c <= '9';
const SUFFIX_CHARS = 'eEinumkKMGTP';

interface Scanned {
  positive: boolean;
  /** The sign and number as written (apimachinery's slow path parses this text). */
  value: string;
  num: string;
  denom: string;
  suffix: string;
}

// A transcription of apimachinery's parseQuantityString scanner: its quirks (".", "-", "1.",
// a bare suffix such as "Mi" parsing as zero) are part of what the apiserver accepts.
function scan(str: string): Scanned {
  let positive = true;
  let pos = 0;
  const end = str.length;
  if (pos < end) {
    if (str[0] === '-') {
      positive = false;
      pos++;
    } else if (str[0] === '+') {
      pos++;
    }
  }
  for (let i = pos; ; i++) {
    if (i >= end) return { positive, value: '0', num: '0', denom: '', suffix: '' };
    if (str[i] === '0') pos++;
    else break;
  }
  let num = '';
  for (let i = pos; ; i++) {
    if (i >= end) return { positive, value: str, num: str.slice(pos), denom: '', suffix: '' };
    if (!isDigit(str[i])) {
      num = str.slice(pos, i);
      pos = i;
      break;
    }
  }
  if (num === '') num = '0';
  let denom = '';
  if (pos < end && str[pos] === '.') {
    pos++;
    for (let i = pos; ; i++) {
      if (i >= end) return { positive, value: str, num, denom: str.slice(pos), suffix: '' };
      if (!isDigit(str[i])) {
        denom = str.slice(pos, i);
        pos = i;
        break;
      }
    }
  }
  const value = str.slice(0, pos);
  const suffixStart = pos;
  for (let i = pos; ; i++) {
    if (i >= end) return { positive, value, num, denom, suffix: str.slice(suffixStart) };
    if (!SUFFIX_CHARS.includes(str[i])) {
      pos = i;
      break;
    }
  }
  if (pos < end && (str[pos] === '-' || str[pos] === '+')) pos++;
  for (let i = pos; ; i++) {
    if (i >= end) return { positive, value, num, denom, suffix: str.slice(suffixStart) };
    if (!isDigit(str[i])) break;
  }
  throw errFormat();
}

interface Suffix {
  base: 2 | 10;
  exponent: number;
  format: QuantityFormat;
}

function interpretSuffix(s: string): Suffix {
  const dec = decimalSuffixes[s];
  if (dec !== undefined && Object.hasOwn(decimalSuffixes, s)) return { base: 10, exponent: dec, format: 'DecimalSI' };
  const bin = binarySuffixes[s];
  if (bin !== undefined && Object.hasOwn(binarySuffixes, s)) return { base: 2, exponent: bin, format: 'BinarySI' };
  if (s.length > 1 && (s[0] === 'e' || s[0] === 'E')) {
    const rest = s.slice(1);
    // strconv.ParseInt(rest, 10, 64), then int32() truncation as apimachinery does.
    if (!/^[+-]?[0-9]+$/.test(rest)) throw errSuffix();
    const n = BigInt(rest);
    if (n > INT64_MAX || n < INT64_MIN) throw errSuffix();
    return { base: 10, exponent: Number(BigInt.asIntN(32, n)), format: 'DecimalExponent' };
  }
  throw errSuffix();
}

const pow10 = (n: number): bigint => 10n ** BigInt(n);
/** Ceiling division of non-negative a by positive b. */
const ceilDiv = (a: bigint, b: bigint): bigint => (a + b - 1n) / b;

/** Parses like apimachinery's resource.ParseQuantity (no whitespace trimming). Throws QuantityError. */
export function parseQuantity(str: string): Quantity {
  if (str.length === 0) throw errFormat();
  if (str === '0') return { nanos: 0n, format: 'DecimalSI' };
  const sc = scan(str);
  const suf = interpretSuffix(sc.suffix);
  let format = suf.format;

  // apimachinery's fast path parses num+denom as an int64; when it does not apply it parses the
  // written text instead, which fails if no digit was written ("Pi", "e-10"). Reproduce that.
  const hasDigits = /[0-9]/.test(sc.value);
  if (!hasDigits) {
    let precision: number;
    let scale = 0;
    if (suf.base === 10) {
      precision = 18 - (sc.num.length + sc.denom.length);
      scale = suf.exponent - sc.denom.length;
    } else {
      precision = sc.denom.length === 0 ? 15 - sc.num.length - Math.trunc(Math.fround(suf.exponent) * 3 / 10) - 1 : -1;
    }
    if (precision < 0 || scale < -9) throw errNumeric();
    return { nanos: 0n, format };
  }

  // apimachinery keeps an exponent as a scale and would accept "1e2147483647"; a BigInt of that
  // size would exhaust memory, so absurd exponents are refused (no real resource is near them).
  if (Math.abs(suf.exponent) > 1000) throw errNumeric();
  const digits = BigInt(sc.num + sc.denom);
  const d = sc.denom.length;
  let magnitude: bigint;
  if (suf.base === 10) {
    const e = 9 + suf.exponent - d;
    magnitude = e >= 0 ? digits * pow10(e) : ceilDiv(digits, pow10(-e));
  } else {
    const scaled = digits * (1n << BigInt(suf.exponent)) * NANO;
    magnitude = ceilDiv(scaled, pow10(d));
  }
  if (format === 'BinarySI') {
    if (magnitude > INT64_MAX * NANO) magnitude = INT64_MAX * NANO;
    if (magnitude > 0n && magnitude < NANO) format = 'DecimalSI';
  }
  return { nanos: sc.positive ? magnitude : -magnitude, format };
}

/**
 * A quantity as it arrives in JSON: apimachinery's UnmarshalJSON trims whitespace and accepts
 * bare numbers (`cpu: 2` in YAML). Throws QuantityError for anything else.
 */
export function parseWireQuantity(v: unknown): Quantity {
  if (typeof v === 'number' && Number.isFinite(v)) return parseQuantity(String(v));
  if (typeof v === 'string') return parseQuantity(v.trim());
  throw errFormat();
}

/** Like parseQuantity but returns undefined instead of throwing. */
export function tryParseQuantity(v: unknown): Quantity | undefined {
  // Absent values are the common case (no limits): answer them without building an error.
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  try {
    return parseWireQuantity(v);
  } catch (err) {
    if (err instanceof QuantityError) return undefined;
    throw err;
  }
}

function stripFactors(n: bigint, f: bigint): [bigint, number] {
  let times = 0;
  if (n === 0n) return [n, 0];
  while (n % f === 0n) {
    n /= f;
    times++;
  }
  return [n, times];
}

/** The canonical string form, as Quantity.String() prints it ("1.5Gi" → "1536Mi", "0.5" → "500m"). */
export function formatQuantity(q: Quantity): string {
  if (q.nanos === 0n) return '0';
  let format = q.format;
  if (format === 'BinarySI') {
    if (q.nanos > -1024n * NANO && q.nanos < 1024n * NANO) format = 'DecimalSI';
    else if (q.nanos % NANO !== 0n) format = 'DecimalSI';
  }
  if (format === 'BinarySI') {
    let [mantissa, pow] = stripFactors(q.nanos / NANO, 1024n);
    // Past Ei there is no suffix; keep the number exact rather than lose it.
    while (pow > 6) {
      mantissa *= 1024n;
      pow--;
    }
    return `${mantissa}${binarySuffixByPow[pow]}`;
  }
  let [mantissa, times] = stripFactors(q.nanos, 10n);
  let exponent = times - 9;
  const rem = ((exponent % 3) + 3) % 3;
  if (rem !== 0) {
    mantissa *= pow10(rem);
    exponent -= rem;
  }
  if (format === 'DecimalExponent') return exponent === 0 ? `${mantissa}` : `${mantissa}e${exponent}`;
  // apimachinery prints no suffix at all past "E" (a bug that loses the value); keep it exact instead.
  while (exponent > 18) {
    mantissa *= 1000n;
    exponent -= 3;
  }
  return `${mantissa}${decimalSuffixByExp.get(exponent) ?? ''}`;
}

/** Parses and re-prints in canonical form; throws QuantityError when the input is not a quantity. */
export function canonicalQuantity(v: unknown): string {
  return formatQuantity(parseWireQuantity(v));
}

/** Value in milli-units, rounded up (Quantity.MilliValue). Exact below 2^53. */
export function milliValue(q: Quantity): number {
  return Number(ceilSigned(q.nanos, 1_000_000n));
}

/** Value in whole units, rounded up (Quantity.Value): "500m" → 1. Exact below 2^53. */
export function value(q: Quantity): number {
  return Number(ceilSigned(q.nanos, NANO));
}

/** Value in whole units, rounded up, as an exact BigInt. */
export function valueBig(q: Quantity): bigint {
  return ceilSigned(q.nanos, NANO);
}

function ceilSigned(n: bigint, d: bigint): bigint {
  const q = n / d;
  return n % d !== 0n && n > 0n ? q + 1n : q;
}

export function cmpQuantity(a: Quantity, b: Quantity): -1 | 0 | 1 {
  return a.nanos < b.nanos ? -1 : a.nanos > b.nanos ? 1 : 0;
}

/** a + b, keeping a's format (b's when a is zero), as Quantity.Add. */
export function addQuantity(a: Quantity, b: Quantity): Quantity {
  return { nanos: a.nanos + b.nanos, format: a.nanos === 0n ? b.format : a.format };
}

/** a − b, keeping a's format (b's when a is zero), as Quantity.Sub. */
export function subQuantity(a: Quantity, b: Quantity): Quantity {
  return { nanos: a.nanos - b.nanos, format: a.nanos === 0n ? b.format : a.format };
}

export function isZeroQuantity(q: Quantity): boolean {
  return q.nanos === 0n;
}

export const zeroQuantity: Quantity = { nanos: 0n, format: 'DecimalSI' };

/** A quantity of `milli` thousandths (resource.NewMilliQuantity). */
export function milliQuantity(milli: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
  return { nanos: BigInt(milli) * 1_000_000n, format };
}

/** A quantity of whole units (resource.NewQuantity): quantityOf(1 << 30, 'BinarySI') prints "1Gi". */
export function quantityOf(units: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
  return { nanos: BigInt(units) * NANO, format };
}

/** Rounds away from zero to a multiple of 10^-3 (Quantity.RoundUp(-3), applied to every ResourceList). */
export function roundUpToMilli(q: Quantity): Quantity {
  const step = 1_000_000n;
  const r = q.nanos % step;
  if (r === 0n) return q;
  const mag = q.nanos < 0n ? -q.nanos : q.nanos;
  const up = (mag / step + 1n) * step;
  return { nanos: q.nanos < 0n ? -up : up, format: q.format };
}
