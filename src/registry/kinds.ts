// The kinds tinykube serves, in discovery order. Adding a kind is adding its folder and a line here:
// discovery, OpenAPI, tables, routing and the stores follow from this list.

import type { KindDefinition } from './kind.ts';
import { configMaps } from './core/configmaps/kind.ts';
import { events } from './core/events/kind.ts';
import { namespaces } from './core/namespaces/kind.ts';
import { nodes } from './core/nodes/kind.ts';
import { pods } from './core/pods/kind.ts';
import { secrets } from './core/secrets/kind.ts';
import { serviceAccounts } from './core/serviceaccounts/kind.ts';
import { eventsV1 } from './events/events/kind.ts';
import { leases } from './coordination/leases/kind.ts';
import { priorityClasses } from './scheduling/priorityclasses/kind.ts';
import { customResourceDefinitions } from './apiextensions/customresourcedefinitions/kind.ts';
import { selfSubjectReviews } from './authentication/selfsubjectreviews/kind.ts';
import { cronJobs } from './batch/cronjobs/kind.ts';
import { jobs } from './batch/jobs/kind.ts';

export const builtinKinds: readonly KindDefinition[] = [pods, namespaces, nodes, events, configMaps, secrets, serviceAccounts, eventsV1, leases, priorityClasses, customResourceDefinitions, selfSubjectReviews, jobs, cronJobs];
