// The single plugin registry: every plugin by name, and the default profile (which plugins run, in
// which order, with which score weights), as Kubernetes' default_registry.go and default plugin set
// for v1.32. Order matters: Filter stops at the first rejecting plugin, so the cheap, decisive checks
// come first and a node's reason is the one Kubernetes would report.

import type { PluginFactory } from '../framework/interfaces.ts';
import type { PluginConfig } from '../framework/framework.ts';
import * as balancedallocation from './balancedallocation/balancedallocation.ts';
import * as defaultbinder from './defaultbinder/defaultbinder.ts';
import * as defaultpreemption from './defaultpreemption/defaultpreemption.ts';
import * as imagelocality from './imagelocality/imagelocality.ts';
import * as interpodaffinity from './interpodaffinity/interpodaffinity.ts';
import * as nodeaffinity from './nodeaffinity/nodeaffinity.ts';
import * as nodename from './nodename/nodename.ts';
import * as nodeports from './nodeports/nodeports.ts';
import * as noderesourcesfit from './noderesourcesfit/noderesourcesfit.ts';
import * as nodeunschedulable from './nodeunschedulable/nodeunschedulable.ts';
import * as podtopologyspread from './podtopologyspread/podtopologyspread.ts';
import * as tainttoleration from './tainttoleration/tainttoleration.ts';
import * as volumebinding from './volumebinding/volumebinding.ts';
import * as volumerestrictions from './volumerestrictions/volumerestrictions.ts';

export const registry: Readonly<Record<string, PluginFactory>> = Object.freeze({
  [nodeunschedulable.NAME]: nodeunschedulable.factory,
  [nodename.NAME]: nodename.factory,
  [tainttoleration.NAME]: tainttoleration.factory,
  [nodeaffinity.NAME]: nodeaffinity.factory,
  [nodeports.NAME]: nodeports.factory,
  [noderesourcesfit.NAME]: noderesourcesfit.factory,
  [volumebinding.NAME]: volumebinding.factory,
  [volumerestrictions.NAME]: volumerestrictions.factory,
  [podtopologyspread.NAME]: podtopologyspread.factory,
  [interpodaffinity.NAME]: interpodaffinity.factory,
  [defaultpreemption.NAME]: defaultpreemption.factory,
  [balancedallocation.NAME]: balancedallocation.factory,
  [imagelocality.NAME]: imagelocality.factory,
  [defaultbinder.NAME]: defaultbinder.factory,
});

/** Kubernetes 1.32's default profile (the plugins tinykube implements), with its score weights. */
export const defaultPlugins: readonly PluginConfig[] = Object.freeze([
  { name: nodeunschedulable.NAME },
  { name: nodename.NAME },
  { name: tainttoleration.NAME, weight: 3 },
  { name: nodeaffinity.NAME, weight: 2 },
  { name: nodeports.NAME },
  { name: noderesourcesfit.NAME, weight: 1 },
  { name: volumerestrictions.NAME },
  { name: volumebinding.NAME },
  { name: podtopologyspread.NAME, weight: 2 },
  { name: interpodaffinity.NAME, weight: 2 },
  { name: defaultpreemption.NAME },
  { name: balancedallocation.NAME, weight: 1 },
  { name: imagelocality.NAME, weight: 1 },
  { name: defaultbinder.NAME },
]);
