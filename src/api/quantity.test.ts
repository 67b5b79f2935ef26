import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addQuantity,
  canonicalQuantity,
  cmpQuantity,
  formatQuantity,
  milliQuantity,
  milliValue,
  parseQuantity,
  parseWireQuantity,
  QUANTITY_FORMAT_MESSAGE,
  QuantityError,
  quantityOf,
  roundUpToMilli,
  subQuantity,
  value,
  valueBig,
} from './quantity.ts';

test('parse and canonical form, as apimachinery prints them', () => {
  const cases: [string, string, string][] = [
    // input, canonical, format
    ['0', '0', 'DecimalSI'],
    ['0m', '0', 'DecimalSI'],
    ['0Ki', '0', 'BinarySI'],
    ['1', '1', 'DecimalSI'],
    ['1.5', '1500m', 'DecimalSI'],
    ['500m', '500m', 'DecimalSI'],
    ['1000m', '1', 'DecimalSI'],
    ['1024', '1024', 'DecimalSI'],
    ['1000', '1k', 'DecimalSI'],
    ['128Mi', '128Mi', 'BinarySI'],
    ['1.5Gi', '1536Mi', 'BinarySI'],
    ['0.5Gi', '512Mi', 'BinarySI'],
    ['2Ki', '2Ki', 'BinarySI'],
    ['1023Ki', '1023Ki', 'BinarySI'],
    ['512', '512', 'DecimalSI'],
    ['1.1Ki', '1126400m', 'BinarySI'],
    ['1G', '1G', 'DecimalSI'],
    ['100M', '100M', 'DecimalSI'],
    ['1E', '1E', 'DecimalSI'],
    ['12E', '12E', 'DecimalSI'],
    ['1e3', '1e3', 'DecimalExponent'],
    ['1E3', '1e3', 'DecimalExponent'],
    ['1.5e3', '1500', 'DecimalExponent'],
    ['1e-3', '1e-3', 'DecimalExponent'],
    ['1e+3', '1e3', 'DecimalExponent'],
    ['0.1m', '100u', 'DecimalSI'],
    ['1n', '1n', 'DecimalSI'],
    ['0.0000000001', '1n', 'DecimalSI'], // rounded up to the nano scale
    ['0.000000000001Ki', '2n', 'DecimalSI'], // rounds up and leaves BinarySI
    ['.001', '1m', 'DecimalSI'],
    ['.0001k', '100m', 'DecimalSI'],
    ['1.', '1', 'DecimalSI'],
    ['1.G', '1G', 'DecimalSI'],
    ['+1', '1', 'DecimalSI'],
    ['-1', '-1', 'DecimalSI'],
    ['-500m', '-500m', 'DecimalSI'],
    ['-1.5Gi', '-1536Mi', 'BinarySI'],
    ['007', '7', 'DecimalSI'],
    ['9Ei', '9223372036854775807', 'BinarySI'], // BinarySI saturates at int64
    // apimachinery's scanner quirks: these are accepted as zero.
    ['.', '0', 'DecimalSI'],
    ['-', '0', 'DecimalSI'],
    ['Mi', '0', 'BinarySI'],
    ['m', '0', 'DecimalSI'],
  ];
  for (const [input, canonical, format] of cases) {
    const q = parseQuantity(input);
    assert.equal(formatQuantity(q), canonical, input);
    assert.equal(q.format, format, input);
  }
});

test('rejects what apimachinery rejects, with its messages', () => {
  const FORMAT = QUANTITY_FORMAT_MESSAGE;
  const NUMERIC = 'unable to parse numeric part of quantity';
  const SUFFIX = "unable to parse quantity's suffix";
  const cases: [string, string][] = [
    ['', FORMAT],
    [' 1', FORMAT],
    ['1 ', FORMAT],
    ['1.1.M', FORMAT],
    ['1+1.0M', FORMAT],
    ['0.1am', FORMAT],
    ['aoeu', FORMAT],
    ['1KiB', FORMAT],
    ['1e1.5', FORMAT],
    ['1e3k', FORMAT],
    ['1e+-3', FORMAT],
    ['1..5', FORMAT],
    ['1,5', FORMAT],
    ['0x10', FORMAT],
    ['0.1mi', SUFFIX],
    ['.5i', SUFFIX],
    ['1i', SUFFIX],
    ['-3.01i', SUFFIX],
    ['-3.01e-', SUFFIX],
    ['1e', SUFFIX],
    ['1e+', SUFFIX],
    ['1K', SUFFIX],
    ['1ki', SUFFIX],
    ['1KI', FORMAT],
    ['Pi', NUMERIC],
    ['e-10', NUMERIC],
  ];
  for (const [input, message] of cases) {
    assert.throws(() => parseQuantity(input), (err: unknown) => err instanceof QuantityError && err.message === message, input);
  }
  assert.equal(FORMAT, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
});

test('wire quantities: trimmed strings and bare JSON numbers', () => {
  assert.equal(canonicalQuantity(' 1 '), '1');
  assert.equal(canonicalQuantity(2), '2');
  assert.equal(canonicalQuantity(0.5), '500m');
  assert.throws(() => parseWireQuantity(true), QuantityError);
  assert.throws(() => parseWireQuantity(null), QuantityError);
});

test('milli and unit values round up', () => {
  const cases: [string, number, number][] = [
    ['500m', 500, 1],
    ['1', 1000, 1],
    ['1.5', 1500, 2],
    ['1n', 1, 1],
    ['128Mi', 134217728000, 134217728],
    ['0', 0, 0],
    ['-500m', -500, 0],
  ];
  for (const [input, milli, units] of cases) {
    const q = parseQuantity(input);
    assert.equal(milliValue(q), milli, input);
    assert.equal(value(q), units, input);
  }
  assert.equal(valueBig(parseQuantity('12E')), 12_000_000_000_000_000_000n);
});

test('compare, add, subtract keep exactness and the left format', () => {
  const q = parseQuantity;
  assert.equal(cmpQuantity(q('1'), q('1000m')), 0);
  assert.equal(cmpQuantity(q('500m'), q('1')), -1);
  assert.equal(cmpQuantity(q('1Gi'), q('1G')), 1);
  assert.equal(formatQuantity(addQuantity(q('500m'), q('1.5'))), '2');
  assert.equal(formatQuantity(addQuantity(q('1Gi'), q('512Mi'))), '1536Mi');
  assert.equal(formatQuantity(addQuantity(q('0'), q('512Mi'))), '512Mi');
  assert.equal(formatQuantity(subQuantity(q('1'), q('250m'))), '750m');
  assert.equal(formatQuantity(milliQuantity(250)), '250m');
  assert.equal(formatQuantity(quantityOf(1 << 30, 'BinarySI')), '1Gi');
});

test('round up to milli, as every ResourceList is on the way in', () => {
  assert.equal(formatQuantity(roundUpToMilli(parseQuantity('0.1m'))), '1m');
  assert.equal(formatQuantity(roundUpToMilli(parseQuantity('1.0001'))), '1001m');
  assert.equal(formatQuantity(roundUpToMilli(parseQuantity('128Mi'))), '128Mi');
});
