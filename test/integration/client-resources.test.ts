// The client's typed resources are the registry's kinds: every built-in kind has its ResourceRef in
// src/client/resources.ts, and every ResourceRef there is a served kind. (The client sits below the
// registry and may not import its list, so this test keeps the two as one.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as resources from '../../src/client/resources.ts';
import { builtinKinds } from '../../src/registry/kinds.ts';

test('every built-in kind has a typed ResourceRef in the client, and nothing else does', () => {
  const refs = Object.values(resources).filter((v): v is resources.ResourceRef => typeof v === 'object' && v !== null && 'apiVersion' in v && 'resource' in v);
  const key = (apiVersion: string, resource: string) => `${apiVersion}/${resource}`;
  const kinds = builtinKinds.map((k) => key(k.info.group ? `${k.info.group}/${k.info.version}` : k.info.version, k.info.resource)).sort();
  assert.deepEqual(refs.map((r) => key(r.apiVersion, r.resource)).sort(), kinds);
});
