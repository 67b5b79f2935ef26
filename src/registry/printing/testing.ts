// Table tests: container states and times relative to a fixed NOW, over the shared pod builder.

import type { ContainerState } from '../../api/types.ts';
import { rfc3339 } from '../../util/clock.ts';
import { makePod as sharedMakePod, type PodBuilder } from '../../testing/objects.ts';

export type { PodBuilder };

export const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
export const SEC = 1000;
export const MIN = 60 * SEC;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;

/** RFC 3339 timestamp `ms` before NOW. */
export const ago = (ms: number): string => rfc3339(NOW - ms);

export const running = (): ContainerState => ({ running: { startedAt: ago(MIN) } });
export const waiting = (reason?: string): ContainerState => ({ waiting: reason === undefined ? {} : { reason } });
export const terminated = (exitCode: number, reason?: string, signal?: number): ContainerState => ({
  terminated: { exitCode, ...(reason === undefined ? {} : { reason }), ...(signal === undefined ? {} : { signal }), finishedAt: ago(MIN) },
});

/**
 * A pod as `kubectl run` leaves it (label run=<name>), created six seconds before NOW; the shared
 * builder does the rest (`container('app', running(), { ready: true })`, `terminating(ago(0))`).
 */
export const makePod = (name = 'web'): PodBuilder => sharedMakePod(name).uid(`uid-${name}`).resourceVersion('1008').created(ago(6 * SEC)).labels({ run: name });
