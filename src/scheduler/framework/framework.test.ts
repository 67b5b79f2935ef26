import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeNode, makePod } from '../../testing/objects.ts';
import { SchedulerCache } from './cache.ts';
import { CycleState } from './cycle-state.ts';
import { Framework } from './framework.ts';
import type { FilterPlugin, PluginFactory, PostFilterPlugin, PreFilterPlugin, ReservePlugin } from './interfaces.ts';
import { newPodInfo } from './pod-info.ts';
import { skip, success, unresolvable, unschedulable } from './status.ts';
import type { Status } from './status.ts';

function recorder(log: string[]) {
  const pre = (name: string, s: Status): PluginFactory => () => ({ name, preFilter: () => (log.push(`pre ${name}`), s) }) as PreFilterPlugin;
  const filter = (name: string, s: Status): PluginFactory => () => ({ name, filter: () => (log.push(`filter ${name}`), s) }) as FilterPlugin;
  const reserve = (name: string, s: Status): PluginFactory => () =>
    ({ name, reserve: () => (log.push(`reserve ${name}`), s), unreserve: () => void log.push(`unreserve ${name}`) }) as ReservePlugin;
  const post = (name: string, s: Status): PluginFactory => () => ({ name, postFilter: () => (log.push(`post ${name}`), { status: s }) }) as PostFilterPlugin;
  return { pre, filter, reserve, post };
}

test('extension points run in profile order with Kubernetes semantics', () => {
  const log: string[] = [];
  const r = recorder(log);
  const registry: Record<string, PluginFactory> = {
    SkipMe: () => ({ name: 'SkipMe', preFilter: () => (log.push('pre SkipMe'), skip()), filter: () => (log.push('filter SkipMe'), unschedulable('never')) }) as PreFilterPlugin & FilterPlugin,
    Pass: r.filter('Pass', success()),
    Reject: r.filter('Reject', unschedulable('nope')),
    After: r.filter('After', success()),
    Throws: () => ({ name: 'Throws', filter: () => { throw new Error('boom'); } }) as FilterPlugin,
  };
  const cache = new SchedulerCache();
  cache.addOrUpdateNode(makeNode('n').build());
  const pod = newPodInfo(makePod('p').build());
  const node = cache.get('n')!;

  const fw = new Framework({ registry, plugins: ['SkipMe', 'Pass', 'Reject', 'After'].map((name) => ({ name })), nodes: cache });
  const state = new CycleState();
  assert.equal(fw.runPreFilterPlugins(state, pod).code, 'Success');
  const s = fw.runFilterPlugins(state, pod, node);
  // SkipMe's Filter is not run; the first rejection stops the chain and names its plugin.
  assert.deepEqual([s.code, s.plugin, s.reasons], ['Unschedulable', 'Reject', ['nope']]);
  assert.deepEqual(log, ['pre SkipMe', 'filter Pass', 'filter Reject']);

  const broken = new Framework({ registry, plugins: [{ name: 'Throws' }], nodes: cache });
  const e = broken.runFilterPlugins(new CycleState(), pod, node);
  assert.deepEqual([e.code, e.plugin, e.reasons], ['Error', 'Throws', ['boom']]);
});

test('PreFilter rejection, Reserve/Unreserve order and PostFilter outcomes', () => {
  const log: string[] = [];
  const r = recorder(log);
  const registry: Record<string, PluginFactory> = {
    PreNo: r.pre('PreNo', unresolvable('no way')),
    R1: r.reserve('R1', success()),
    R2: r.reserve('R2', unschedulable('full')),
    P1: r.post('P1', unschedulable('a')),
    P2: r.post('P2', unschedulable('b')),
    PDone: r.post('PDone', success()),
  };
  const cache = new SchedulerCache();
  const pod = newPodInfo(makePod('p').build());
  const pre = new Framework({ registry, plugins: [{ name: 'PreNo' }], nodes: cache }).runPreFilterPlugins(new CycleState(), pod);
  assert.deepEqual([pre.code, pre.plugin], ['UnschedulableAndUnresolvable', 'PreNo']);
  log.splice(0);

  const fw = new Framework({ registry, plugins: [{ name: 'R1' }, { name: 'R2' }], nodes: cache });
  const state = new CycleState();
  assert.equal(fw.runReservePlugins(state, pod, 'n').plugin, 'R2');
  fw.runUnreservePlugins(state, pod, 'n');
  assert.deepEqual(log.splice(0), ['reserve R1', 'reserve R2', 'unreserve R2', 'unreserve R1']);

  const joined = new Framework({ registry, plugins: [{ name: 'P1' }, { name: 'P2' }], nodes: cache }).runPostFilterPlugins(state, pod, new Map());
  assert.deepEqual([joined.status.code, joined.status.reasons], ['Unschedulable', ['a', 'b']]);
  const done = new Framework({ registry, plugins: [{ name: 'P1' }, { name: 'PDone' }, { name: 'P2' }], nodes: cache }).runPostFilterPlugins(state, pod, new Map());
  assert.deepEqual([done.status.code, done.status.plugin], ['Success', 'PDone']);
});
