// A CPU profile of one window of a process's life (the measured phase of a benchmark, not its
// setup), taken through the in-process inspector and written as a `.cpuprofile` that
// bench/lib/profile.ts summarises.

import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';

let session: Session | undefined;

export async function startWindowProfile(): Promise<void> {
  if (session) return;
  session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
}

/** Stops the window's profile and writes it to `file`. */
export async function stopWindowProfile(file: string): Promise<void> {
  if (!session) return;
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(file, JSON.stringify(profile));
  session.disconnect();
  session = undefined;
}
