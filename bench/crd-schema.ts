// Custom-resource validations per second through the apiextensions schema engine: a 20-field
// schema with two CEL rules, the work a CR create does (prune, default, validate, rules).
// Target (issue 10): custom-resource creates >= 2,000/s on 2 cores, so this must be far above that.
//
//   node bench/crd-schema.ts [iterations]

import { pruneAndDefault, validateCustomResource, type JSONSchemaProps } from '../src/api/apiextensions/index.ts';

const fields: Record<string, JSONSchemaProps> = {};
for (let i = 0; i < 20; i++) {
  fields[`f${i}`] = i % 4 === 0 ? { type: 'integer', minimum: 0, maximum: 1000 } : i % 4 === 1 ? { type: 'string', maxLength: 64, pattern: '^[a-z0-9-]+$' } : i % 4 === 2 ? { type: 'boolean' } : { type: 'string', enum: ['a', 'b', 'c'] };
}
const schema: JSONSchemaProps = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      required: ['f0', 'f1'],
      properties: fields,
      'x-kubernetes-validations': [
        { rule: 'self.f0 <= self.f4', message: 'f0 must not exceed f4' },
        { rule: "self.f1.startsWith('app-') && size(self.f5) < 32" },
      ],
    },
    status: { type: 'object', properties: { ready: { type: 'boolean' } } },
  },
};

function makeObject(i: number): Record<string, unknown> {
  const spec: Record<string, unknown> = {};
  for (let f = 0; f < 20; f++) spec[`f${f}`] = f % 4 === 0 ? f * 10 : f % 4 === 1 ? `app-${i}-${f}` : f % 4 === 2 ? true : 'b';
  return { apiVersion: 'bench.example.com/v1', kind: 'Bench', metadata: { name: `b-${i}`, namespace: 'default' }, spec };
}

const n = Number(process.argv[2] ?? 20000);
let errors = 0;
for (let i = 0; i < 500; i++) errors += validateCustomResource(schema, makeObject(i)).length;
const start = process.hrtime.bigint();
for (let i = 0; i < n; i++) {
  const obj = makeObject(i);
  pruneAndDefault(schema, obj, true);
  errors += validateCustomResource(schema, obj).length;
}
const secs = Number(process.hrtime.bigint() - start) / 1e9;
if (errors !== 0) throw new Error(`bench objects should be valid, got ${errors} errors`);
console.log(`crd-schema: ${n} custom resources (20 fields, 2 CEL rules) prune+default+validate in ${secs.toFixed(2)}s: ${Math.round(n / secs)} validations/s`);
