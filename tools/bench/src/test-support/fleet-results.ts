import type { FleetModeName, FleetResult, IdleFleetResult } from '../fleet';
import type { SystemName } from '../names';

/** Builders of fleet and idle-fleet result records for the unit tests. */
export const fleet = (system: SystemName, workers: number, mode: FleetModeName, tasksPerSec: number, extra: Partial<FleetResult> = {}): FleetResult => ({
  bench: 'fleet',
  system,
  n: 50_000,
  mode,
  workers,
  concurrency: Array.from({ length: workers }, () => (mode === 'same-per-process' ? 50 : 50 / workers)),
  tasksPerSec,
  usPerTask: 1e6 / tasksPerSec,
  runs: [tasksPerSec],
  redisUsPerTask: 10,
  redisCommandsPerTask: 1,
  redisReadsPerTask: 0.05,
  redisScriptCallsPerTask: 0.04,
  ...extra,
});

export const idleFleet = (system: SystemName, redisScriptCallsPerTask: number, extra: Partial<IdleFleetResult> = {}): IdleFleetResult => ({
  bench: 'idle-fleet',
  system,
  n: 10_000,
  workers: 8,
  concurrency: 10,
  ratePerSec: 1000,
  durationMs: 10_000,
  warmupMs: 1000,
  sentPerSec: 1000,
  redisUsPerTask: 50,
  redisCommandsPerTask: 30,
  redisReadsPerTask: 1.5,
  redisScriptCallsPerTask,
  p50Ms: 0.5,
  p90Ms: 1,
  p99Ms: 2,
  maxMs: 5,
  warmup: { p50Ms: 0.8, p99Ms: 40, maxMs: 60 },
  ranPerWorker: [1250, 1250, 1250, 1250, 1250, 1250, 1250, 1250],
  ...extra,
});
