// The one place that maps a resource to its table printer. A new resource gets a printer by adding
// a line here; anything not listed is printed by the generic Name/Age printer.

import { configMapPrinter } from './printers/configmaps.ts';
import { eventPrinter } from './printers/events.ts';
import { genericPrinter } from './printers/generic.ts';
import { leasePrinter } from './printers/leases.ts';
import { namespacePrinter } from './printers/namespaces.ts';
import { nodePrinter } from './printers/nodes.ts';
import { podPrinter } from './printers/pods.ts';
import { priorityClassPrinter } from './printers/priorityclasses.ts';
import { secretPrinter } from './printers/secrets.ts';
import { serviceAccountPrinter } from './printers/serviceaccounts.ts';
import type { TablePrinter } from './types.ts';

// Keyed by "<plural>" for the core group and "<plural>.<group>" otherwise. events.k8s.io events
// share the core printer, as they share the storage upstream.
const printers: ReadonlyMap<string, TablePrinter> = new Map<string, TablePrinter>([
  ['pods', podPrinter],
  ['namespaces', namespacePrinter],
  ['nodes', nodePrinter],
  ['events', eventPrinter],
  ['events.events.k8s.io', eventPrinter],
  ['configmaps', configMapPrinter],
  ['secrets', secretPrinter],
  ['serviceaccounts', serviceAccountPrinter],
  ['leases.coordination.k8s.io', leasePrinter],
  ['priorityclasses.scheduling.k8s.io', priorityClassPrinter],
]);

// Plural names are unique among the resources tinykube serves, so a bare plural also finds a
// group's printer ("leases"); the first registration of a plural wins.
const byPlural = new Map<string, TablePrinter>();
for (const [key, printer] of printers) {
  const plural = key.split('.')[0];
  if (!byPlural.has(plural)) byPlural.set(plural, printer);
}

/**
 * The printer for `resource`: a plural ("pods", "leases") or a group-qualified plural
 * ("leases.coordination.k8s.io"). Unknown resources get the generic Name/Age printer.
 */
export function printerFor(resource: string): TablePrinter {
  const printer = printers.get(resource) ?? (resource.includes('.') ? undefined : byPlural.get(resource));
  return printer ?? genericPrinter;
}
