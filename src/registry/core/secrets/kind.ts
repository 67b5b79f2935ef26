// Secrets (core/v1).

import type { Secret } from '../../../api/types.ts';
import * as v from '../../../api/validation/others.ts';
import { defaultSecret } from '../../../api/defaults/others.ts';
import { defineKind } from '../../kind.ts';
import { secretFieldSelectors } from './fields.ts';
import { secretPrinter } from './printer.ts';

export const secrets = defineKind<Secret>({
  identity: { group: '', version: 'v1', resource: 'secrets', singular: 'secret', kind: 'Secret', namespaced: true },
  strategy: {
    // type Opaque by default; stringData is merged into data (winning over data's key) and dropped.
    defaults: defaultSecret,
    validate: v.validateSecret,
    validateUpdate: v.validateSecretUpdate,
  },
  printer: secretPrinter,
  fields: secretFieldSelectors,
});
