// Column definitions shared by several printers. Descriptions are the Go SwaggerDoc strings the real
// server sends (the same text as the OpenAPI field descriptions); kubectl never shows them, but
// clients that render tables generically do.

import type { TableColumnDefinition } from './types.ts';

export function column(
  name: string,
  description: string,
  opts: { priority?: number; format?: string; type?: string } = {},
): TableColumnDefinition {
  return { name, type: opts.type ?? 'string', format: opts.format ?? '', description, priority: opts.priority ?? 0 };
}

export const NAME_DESCRIPTION =
  'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names';

export const CREATION_TIMESTAMP_DESCRIPTION =
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.  Populated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';

export const nameColumn = (opts: { priority?: number } = {}): TableColumnDefinition =>
  column('Name', NAME_DESCRIPTION, { format: 'name', ...opts });

export const ageColumn = (): TableColumnDefinition => column('Age', CREATION_TIMESTAMP_DESCRIPTION);
