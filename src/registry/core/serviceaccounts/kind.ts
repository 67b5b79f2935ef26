// ServiceAccounts (core/v1). Every namespace gets a `default` one from the serviceaccount controller.

import type { ServiceAccount } from '../../../api/types.ts';
import * as v from '../../../api/validation/others.ts';
import { defineKind } from '../../kind.ts';
import { serviceAccountPrinter } from './printer.ts';
import { tokenSubresource } from './token.ts';

export const serviceAccounts = defineKind<ServiceAccount>({
  identity: { group: '', version: 'v1', resource: 'serviceaccounts', singular: 'serviceaccount', kind: 'ServiceAccount', namespaced: true, shortNames: ['sa'] },
  strategy: { validate: v.validateServiceAccount, validateUpdate: v.validateServiceAccountUpdate },
  printer: serviceAccountPrinter,
  subresources: { token: tokenSubresource },
});
