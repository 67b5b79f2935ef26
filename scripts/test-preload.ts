// Loaded (--import) into the test runner and into each test file's process. With --test-force-exit,
// Node (24, and 26 still: nodejs/node#64833) ends a file's process once its tests are done without
// waiting for its report to reach the runner: on Linux the pipe to the runner is non-blocking, and the
// last results still queued in it are dropped without a word. Measured here: one file's 55 tests were
// reported as 14, 31, 41 or 55 from run to run, and whole CI runs counted 3,151 to 3,247 tests, all
// "passing". A blocking pipe makes every write complete before the exit: every result is reported, a
// failure's name and error too (the exit code alone said a file had failed, not which test or why).
const stdout = process.stdout as unknown as { _handle?: { setBlocking?(blocking: boolean): unknown } };
stdout._handle?.setBlocking?.(true);
