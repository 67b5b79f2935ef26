import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorMessage, type FieldError } from '../field.ts';
import { setCustomResourceDefinitionDefaults, validateCustomResourceDefinition, validateCustomResourceDefinitionUpdate } from './validation.ts';
import type { CustomResourceDefinition, JSONSchemaProps } from './types.ts';

const render = (errs: FieldError[]): string[] => errs.map((e) => `${e.field}: ${fieldErrorMessage(e)}`);

const goodSchema = (): JSONSchemaProps => ({
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      properties: {
        cronSpec: { type: 'string' },
        image: { type: 'string' },
        replicas: { type: 'integer', default: 1, minimum: 0 },
      },
      'x-kubernetes-validations': [{ rule: 'self.replicas <= 10', message: 'too many' }],
    },
    status: { type: 'object', properties: { replicas: { type: 'integer' } } },
  },
});

function cronTab(mut?: (c: CustomResourceDefinition) => void): CustomResourceDefinition {
  const crd: CustomResourceDefinition = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'crontabs.stable.example.com' },
    spec: {
      group: 'stable.example.com',
      scope: 'Namespaced',
      names: { plural: 'crontabs', kind: 'CronTab', shortNames: ['ct'] },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: goodSchema() },
          subresources: { status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' } },
          additionalPrinterColumns: [{ name: 'Spec', type: 'string', jsonPath: '.spec.cronSpec' }],
        },
      ],
    },
  };
  mut?.(crd);
  setCustomResourceDefinitionDefaults(crd);
  return crd;
}

const v0 = (c: CustomResourceDefinition) => c.spec.versions[0];
const schemaOf = (c: CustomResourceDefinition) => v0(c).schema!.openAPIV3Schema!;

test('setCustomResourceDefinitionDefaults fills singular, listKind, conversion and storedVersions', () => {
  const c = cronTab();
  assert.equal(c.spec.names.singular, 'crontab');
  assert.equal(c.spec.names.listKind, 'CronTabList');
  assert.deepEqual(c.spec.conversion, { strategy: 'None' });
  assert.deepEqual(c.status?.storedVersions, ['v1']);
});

test('the CronTab CRD is valid', () => {
  assert.deepEqual(render(validateCustomResourceDefinition(cronTab())), []);
});

const cases: { name: string; mut: (c: CustomResourceDefinition) => void; want: string[] }[] = [
  {
    name: 'name must be plural.group',
    mut: (c) => (c.metadata.name = 'x'),
    want: ['metadata.name: Invalid value: "x": must be spec.names.plural+"."+spec.group'],
  },
  {
    name: 'group needs a dot',
    mut: (c) => {
      c.spec.group = 'example';
      c.metadata.name = 'crontabs.example';
    },
    want: ['spec.group: Invalid value: "example": should be a domain with at least one dot'],
  },
  { name: 'scope', mut: (c) => (c.spec.scope = 'Global'), want: ['spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"'] },
  {
    name: 'no storage version',
    mut: (c) => {
      v0(c).storage = false;
      c.status = { storedVersions: ['v1'] };
    },
    want: ['spec.versions: Invalid value: [{"name":"v1","served":true,"storage":false,"schema":{"openAPIV3Schema":' + JSON.stringify(goodSchema()) + '},"subresources":{"status":{},"scale":{"specReplicasPath":".spec.replicas","statusReplicasPath":".status.replicas"}},"additionalPrinterColumns":[{"name":"Spec","type":"string","jsonPath":".spec.cronSpec"}]}]: must have exactly one version marked as storage version'],
  },
  {
    name: 'bad names',
    mut: (c) => {
      c.spec.names = { plural: 'CronTabs', kind: 'Cron_Tab', listKind: 'Cron_Tab', singular: 'crontab' };
      c.metadata.name = 'CronTabs.stable.example.com';
    },
    want: [
      `metadata.name: Invalid value: "CronTabs.stable.example.com": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
      `spec.names.plural: Invalid value: "CronTabs": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
      `spec.names.kind: Invalid value: "Cron_Tab": may have mixed case, but should otherwise match: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
      `spec.names.listKind: Invalid value: "Cron_Tab": may have mixed case, but should otherwise match: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
      'spec.names.listKind: Invalid value: "Cron_Tab": kind and listKind may not be the same',
    ],
  },
  {
    name: 'non-structural: missing type, metadata restrictions, preserve false',
    mut: (c) => {
      const s = schemaOf(c);
      delete s.properties!.spec.type;
      s.properties!.metadata = { type: 'object', properties: { labels: { type: 'object' } } };
    },
    want: [
      'spec.validation.openAPIV3Schema.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified',
      'spec.validation.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields',
    ],
  },
  {
    name: 'per-version schemas keep their version path',
    mut: (c) => {
      const other = structuredClone(v0(c));
      other.name = 'v2';
      other.storage = false;
      delete other.schema!.openAPIV3Schema!.properties!.status;
      c.spec.versions.push(other);
      delete schemaOf(c).properties!.spec.type;
    },
    want: ['spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields'],
  },
  {
    name: 'nested value validation may not carry structure',
    mut: (c) => {
      schemaOf(c).properties!.spec.anyOf = [{ type: 'object', properties: { nope: {} } }];
    },
    want: ['spec.validation.openAPIV3Schema.properties[spec].anyOf[0].type: Forbidden: must be empty to be structural'],
  },
  {
    // Completeness is checked from the root's value validations only, as complete.go does.
    name: 'value validations may only name specified properties',
    mut: (c) => {
      delete v0(c).subresources;
      schemaOf(c).anyOf = [{ properties: { nope: { required: ['x'] } } }, { required: ['spec'] }];
    },
    want: ['spec.validation.openAPIV3Schema.properties[nope]: Required value: because it is defined in spec.validation.openAPIV3Schema.anyOf[0].properties[nope]'],
  },
  {
    name: 'preserve-unknown-fields false and int-or-string conflicts',
    mut: (c) => {
      schemaOf(c).properties!.spec.properties!.port = { 'x-kubernetes-int-or-string': true, 'x-kubernetes-preserve-unknown-fields': true };
      schemaOf(c).properties!.spec.properties!.bad = { type: 'object', 'x-kubernetes-preserve-unknown-fields': false };
    },
    want: ['spec.validation.openAPIV3Schema.properties[spec].properties[port].x-kubernetes-preserve-unknown-fields: Invalid value: true: must be false if x-kubernetes-int-or-string is true', 'spec.validation.openAPIV3Schema.properties[spec].properties[bad].x-kubernetes-preserve-unknown-fields: Invalid value: false: must be true or undefined'],
  },
  {
    name: 'defaults must validate and be pruned',
    mut: (c) => {
      const p = schemaOf(c).properties!.spec.properties!;
      p.replicas.default = 'one';
      p.image.default = 'ok';
      p.obj = { type: 'object', properties: { a: { type: 'string' } }, default: { a: 'x', b: 'y' } };
    },
    want: [
      'spec.validation.openAPIV3Schema.properties[spec].properties[obj].default: Invalid value: {"a":"x","b":"y"}: must not have unknown fields',
      'spec.validation.openAPIV3Schema.properties[spec].properties[replicas].default: Invalid value: "string":  in body must be of type integer: "string"',
    ],
  },
  {
    name: 'default in top-level metadata is forbidden',
    mut: (c) => {
      schemaOf(c).properties!.metadata = { type: 'object', default: {} };
    },
    want: ['spec.validation.openAPIV3Schema.properties[metadata].default: Forbidden: must not be set in top-level metadata'],
  },
  {
    name: 'CEL rule that does not compile',
    mut: (c) => {
      schemaOf(c).properties!.spec['x-kubernetes-validations'] = [{ rule: 'self.nope > 1' }];
    },
    want: [
      `spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule: Invalid value: {"Rule":"self.nope > 1","Message":"","MessageExpression":"","Reason":null,"FieldPath":"","OptionalOldSelf":null}: compilation failed: ERROR: <input>:1:5: undefined field 'nope'\n | self.nope > 1\n | ....^`,
    ],
  },
  {
    name: 'CEL reason and transition rule under an atomic list',
    mut: (c) => {
      schemaOf(c).properties!.spec.properties!.list = { type: 'array', items: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self == oldSelf' }] } };
      schemaOf(c).properties!.spec['x-kubernetes-validations'] = [{ rule: 'true', reason: 'Bogus' }];
    },
    want: [
      'spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].reason: Unsupported value: "Bogus": supported values: "FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"',
      'spec.validation.openAPIV3Schema.properties[spec].properties[list].items.x-kubernetes-validations[0].rule: Invalid value: "self == oldSelf": oldSelf cannot be used on the uncorrelatable portion of the schema within spec.validation.openAPIV3Schema.properties[spec].properties[list]',
    ],
  },
  {
    name: 'list-type map needs keys that are required or defaulted',
    mut: (c) => {
      schemaOf(c).properties!.spec.properties!.ports = {
        type: 'array',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['port', 'missing'],
        items: { type: 'object', properties: { port: { type: 'integer' } } },
      };
    },
    want: [
      'spec.validation.openAPIV3Schema.properties[spec].properties[ports].x-kubernetes-list-map-keys: Invalid value: ["port","missing"]: entries must all be names of item properties',
      'spec.validation.openAPIV3Schema.properties[spec].properties[ports].items.properties[port].default: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property',
    ],
  },
  {
    name: 'printer columns and scale paths',
    mut: (c) => {
      v0(c).additionalPrinterColumns = [{ name: '', type: 'text', jsonPath: 'spec.x' }];
      v0(c).subresources!.scale = { specReplicasPath: '.status.replicas', statusReplicasPath: '' };
    },
    want: [
      'spec.subresources.scale.specReplicasPath: Invalid value: ".status.replicas": should be a json path under .spec',
      'spec.subresources.scale.statusReplicasPath: Required value',
      'spec.additionalPrinterColumns[0].name: Required value',
      'spec.additionalPrinterColumns[0].type: Invalid value: "text": must be one of boolean,date,integer,number,string',
      'spec.additionalPrinterColumns[0].JSONPath: Invalid value: "spec.x": must be a simple json path starting with .',
    ],
  },
  {
    name: 'status subresource limits the root schema',
    mut: (c) => {
      schemaOf(c).anyOf = [{ required: ['spec'] }];
    },
    want: [
      `spec.validation.openAPIV3Schema: Invalid value: ${JSON.stringify({ ...goodSchema(), anyOf: [{ required: ['spec'] }] })}: only [Description Type Format Title Maximum ExclusiveMaximum Minimum ExclusiveMinimum MaxLength MinLength Pattern MaxItems MinItems UniqueItems MultipleOf Required Items Properties ExternalDocs Example XPreserveUnknownFields XValidations] fields are allowed at the root of the schema if the status subresource is enabled`,
    ],
  },
  {
    name: 'conversion strategy',
    mut: (c) => (c.spec.conversion = { strategy: 'Magic' }),
    want: ['spec.conversion.strategy: Unsupported value: "Magic": supported values: "None", "Webhook"'],
  },
  {
    name: 'preserveUnknownFields true',
    mut: (c) => (c.spec.preserveUnknownFields = true),
    want: [
      'spec.preserveUnknownFields: Invalid value: true: must be false in order to use defaults in the schema',
      'spec.preserveUnknownFields: Invalid value: true: cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead',
    ],
  },
  {
    name: 'protected group needs approval',
    mut: (c) => {
      c.spec.group = 'stable.k8s.io';
      c.metadata.name = 'crontabs.stable.k8s.io';
    },
    want: ['metadata.annotations[api-approved.kubernetes.io]: Required value: protected groups must have approval annotation "api-approved.kubernetes.io", see https://github.com/kubernetes/enhancements/pull/1111'],
  },
];

for (const c of cases) {
  test(`validateCustomResourceDefinition: ${c.name}`, () => {
    assert.deepEqual(render(validateCustomResourceDefinition(cronTab(c.mut))), c.want);
  });
}

test('validateCustomResourceDefinitionUpdate: group and plural are immutable; kind once established', () => {
  const old = cronTab();
  old.metadata.resourceVersion = '1';
  old.status!.conditions = [{ type: 'Established', status: 'True' }];
  const cur = cronTab((c) => {
    c.spec.names.kind = 'Other';
    c.spec.names.listKind = 'OtherList';
  });
  cur.metadata.resourceVersion = '1';
  assert.deepEqual(render(validateCustomResourceDefinitionUpdate(cur, old)), ['spec.names.kind: Invalid value: "Other": field is immutable']);
});
