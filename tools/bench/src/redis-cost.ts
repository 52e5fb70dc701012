import type { Redis } from 'ioredis';
import { median } from './stats';

/**
 * What the bench's redis-server has spent so far, read from INFO: its CPU time
 * (`used_cpu_user` + `used_cpu_sys`, µs), the commands it processed
 * (`total_commands_processed`: the commands a script runs count too), the reads
 * from client sockets (`total_reads_processed`: a request or a pipeline read at
 * once, the round trips as Redis sees them) and the calls of each command
 * (`commandstats`, script-run commands included).
 * Two snapshots around a run give what the run cost Redis (issue 18: with Redis
 * on a core of its own, tasks/s per Redis core = 1e6 / µs per task).
 */
export interface RedisCostSnapshot {
  readonly cpuUs: number;
  readonly commands: number;
  readonly reads: number;
  /** Calls per command, lower-case names as INFO commandstats gives them (`evalsha`, `lpush`, `client|setname`). */
  readonly calls: ReadonlyMap<string, number>;
}

/** What Redis spent between two snapshots. */
export interface RedisCost {
  readonly cpuUs: number;
  /** Every command Redis ran, those run by scripts included. */
  readonly commands: number;
  /** Reads from client sockets: round trips (a pipeline read at once counts once). */
  readonly reads: number;
  /** EVAL/EVALSHA/FCALL calls (and their _ro forms): the scripts a queue runs. */
  readonly scriptCalls: number;
  /** Calls per command in the interval, commands with none left out. */
  readonly byCommand: Readonly<Record<string, number>>;
}

/** The same per task, for the table and the JSON lines. */
export interface RedisCostPerTask {
  readonly redisUsPerTask: number;
  readonly redisCommandsPerTask: number;
  readonly redisReadsPerTask: number;
  readonly redisScriptCallsPerTask: number;
}

const SCRIPT_COMMANDS = new Set(['eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'fcall', 'fcall_ro']);

function field(info: string, name: string): string | undefined {
  const line = info.split(/\r?\n/).find((l) => l.startsWith(`${name}:`));
  return line?.slice(name.length + 1).trim();
}

function numberField(info: string, name: string): number {
  const value = Number(field(info, name));
  if (!Number.isFinite(value)) throw new Error(`INFO has no numeric ${name}`);
  return value;
}

/** Parses INFO commandstats (`cmdstat_evalsha:calls=12,usec=340,…`) into calls per command. */
export function parseCommandStats(info: string): Map<string, number> {
  const calls = new Map<string, number>();
  for (const line of info.split(/\r?\n/)) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (m) calls.set(m[1], Number(m[2]));
  }
  return calls;
}

/** Reads a snapshot from INFO text holding the cpu, stats and commandstats sections. */
export function parseRedisCostSnapshot(info: string): RedisCostSnapshot {
  const cpuSeconds = numberField(info, 'used_cpu_user') + numberField(info, 'used_cpu_sys');
  return {
    cpuUs: Math.round(cpuSeconds * 1e6),
    commands: numberField(info, 'total_commands_processed'),
    reads: numberField(info, 'total_reads_processed'),
    calls: parseCommandStats(info),
  };
}

/** One snapshot of the server `admin` is connected to (one INFO call per section). */
export async function redisCostSnapshot(admin: Redis): Promise<RedisCostSnapshot> {
  const [cpu, stats, commandstats] = await Promise.all([admin.info('cpu'), admin.info('stats'), admin.info('commandstats')]);
  return parseRedisCostSnapshot(`${cpu}\n${stats}\n${commandstats}`);
}

/** What Redis spent from `before` to `after`. */
export function redisCostBetween(before: RedisCostSnapshot, after: RedisCostSnapshot): RedisCost {
  const byCommand: Record<string, number> = {};
  let scriptCalls = 0;
  for (const [name, calls] of after.calls) {
    const delta = calls - (before.calls.get(name) ?? 0);
    if (delta <= 0) continue;
    byCommand[name] = delta;
    if (SCRIPT_COMMANDS.has(name)) scriptCalls += delta;
  }
  return { cpuUs: after.cpuUs - before.cpuUs, commands: after.commands - before.commands, reads: after.reads - before.reads, scriptCalls, byCommand };
}

/** A cost divided over `tasks` tasks. */
export function redisCostPerTask(cost: RedisCost, tasks: number): RedisCostPerTask {
  if (!(tasks > 0)) throw new Error(`redisCostPerTask: tasks must be > 0 (got ${tasks})`);
  return {
    redisUsPerTask: cost.cpuUs / tasks,
    redisCommandsPerTask: cost.commands / tasks,
    redisReadsPerTask: cost.reads / tasks,
    redisScriptCallsPerTask: cost.scriptCalls / tasks,
  };
}

/** Measures what `run` costs the server `admin` is connected to (the snapshots' own INFO calls included: 3 commands, 1 to 3 reads). */
export async function measureRedisCost<T>(admin: Redis, run: () => Promise<T>): Promise<{ result: T; cost: RedisCost }> {
  const before = await redisCostSnapshot(admin);
  const result = await run();
  const after = await redisCostSnapshot(admin);
  return { result, cost: redisCostBetween(before, after) };
}

/** Redis's cost per task over repeated runs: each figure the median of the runs', and every run's µs per task. */
export interface RedisCostSummary extends RedisCostPerTask {
  /** Redis µs per task of every run, in run order. */
  readonly runsRedisUsPerTask: readonly number[];
}

/** Each figure's median over the runs (separately: the median µs and the median commands may come from different runs). */
export function redisCostSummary(runs: readonly RedisCostPerTask[]): RedisCostSummary {
  if (runs.length === 0) throw new RangeError('redisCostSummary of no runs');
  const mid = (pick: (c: RedisCostPerTask) => number): number => median(runs.map(pick));
  return {
    redisUsPerTask: mid((c) => c.redisUsPerTask),
    redisCommandsPerTask: mid((c) => c.redisCommandsPerTask),
    redisReadsPerTask: mid((c) => c.redisReadsPerTask),
    redisScriptCallsPerTask: mid((c) => c.redisScriptCallsPerTask),
    runsRedisUsPerTask: runs.map((c) => c.redisUsPerTask),
  };
}

/**
 * Tasks per second one Redis core could serve at this cost, if Redis were the
 * only limit (issue 18): 1e6 / µs per task; undefined when no CPU was measured.
 */
export function tasksPerSecPerRedisCore(redisUsPerTask: number | undefined): number | undefined {
  return redisUsPerTask !== undefined && redisUsPerTask > 0 && Number.isFinite(redisUsPerTask) ? 1e6 / redisUsPerTask : undefined;
}
