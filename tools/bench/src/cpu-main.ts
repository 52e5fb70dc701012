// The CPU probe: where a drain's CPU goes, per side. Runs each system's worker in this process
// (the bench's own worker factories and producers) against a private redis-server, and reports
// tasks/s and the CPU this process and redis-server spent per task.
// tsyringe (behind taskq's classes) needs Reflect.getMetadata at import.
import 'reflect-metadata';
import type { Redis } from 'ioredis';
import yargs from 'yargs';
import { connectRedis } from '@taskq/queue';
import { startRedisServer } from '@taskq/redis-harness';
import { throwingUsage } from '@taskq/app-kit';
import { pickList, UsageError } from './args';
import { REFERENCE_SYSTEMS, SYSTEMS, type SystemName } from './names';
import { processCpuMs } from './proc-cpu';
import { flushAll } from './redis-admin';
import { prepareQueue } from './scenarios/prepare';
import { median } from './stats';
import { openProducer } from './systems/open-producer';
import { redisTarget } from './systems/producer';
import { waitForDrain } from './wait-for-drain';
import { WORKER_FACTORIES } from './workers/factories';

export interface CpuProbeOptions {
  readonly systems: SystemName[];
  readonly n: number;
  readonly repeat: number;
  readonly concurrency: number;
}

/** One drain: rate, and CPU per task of this process (worker, plus the progress polls) and of redis-server, µs. */
export interface CpuSample {
  readonly system: SystemName;
  readonly tasksPerSec: number;
  readonly workerUs: number;
  readonly redisUs: number;
}

/** Parses the probe's flags (strict). Throws UsageError. */
export function parseCpuArgs(argv: readonly string[]): CpuProbeOptions {
  const a = throwingUsage(
    yargs([...argv])
      .scriptName('bench-cpu')
      .usage(
        '$0 [options]\n\nDrains n queued tasks per system with the worker in this process, on a private ' +
          'redis-server, and prints tasks/s and the CPU µs per task of the worker process and of redis-server ' +
          '(Linux: read from /proc). Exit 0; 1 when a run failed; 2 on bad usage.',
      )
      .option('only', { type: 'string', default: 'taskq,lean-full', describe: `systems, comma-separated (${[...SYSTEMS, ...REFERENCE_SYSTEMS].join(',')})` })
      .option('n', { type: 'number', default: 200_000, describe: 'tasks per drain' })
      .option('repeat', { type: 'number', default: 2, describe: 'drains per system (alternating systems)' }),
  ).parseSync();
  const whole = (flag: string, v: number): number => {
    if (!Number.isInteger(v) || v < 1) throw new UsageError(`--${flag} must be a whole number >= 1, got ${v}`);
    return v;
  };
  return {
    systems: pickList<SystemName>('only', a.only, [...SYSTEMS, ...REFERENCE_SYSTEMS]),
    n: whole('n', a.n),
    repeat: whole('repeat', a.repeat),
    concurrency: 50,
  };
}

async function drainOnce(system: SystemName, url: string, redisPid: number, admin: Redis, options: CpuProbeOptions): Promise<CpuSample> {
  const target = redisTarget(url);
  await flushAll(admin);
  const producer = await openProducer(system, target);
  try {
    await prepareQueue(producer, options.n);
    let handled = 0;
    const worker = await WORKER_FACTORIES[system](
      { system, url, concurrency: options.concurrency, retainAtLeast: options.n, recordLatency: false },
      () => {
        handled++;
      },
    );
    const cpu0 = process.cpuUsage();
    const redis0 = processCpuMs(redisPid);
    const t0 = performance.now();
    await worker.go();
    const t1 = await waitForDrain(producer, options.n, t0);
    const cpu = process.cpuUsage(cpu0);
    const redisMs = processCpuMs(redisPid) - redis0;
    await worker.stop();
    if (handled < options.n) throw new Error(`${system}: the worker ran ${handled} of ${options.n} task(s)`);
    return {
      system,
      tasksPerSec: options.n / ((t1 - t0) / 1000),
      workerUs: (cpu.user + cpu.system) / options.n,
      redisUs: (redisMs * 1000) / options.n,
    };
  } finally {
    await producer.close();
  }
}

/** Runs the probe; prints one line per drain, then the medians. */
export async function runCpuProbe(options: CpuProbeOptions, out: (line: string) => void): Promise<CpuSample[]> {
  const server = await startRedisServer();
  const samples: CpuSample[] = [];
  let admin: Redis | undefined;
  try {
    admin = await connectRedis(server.url, { connectionName: 'bench-cpu-admin' });
    for (let r = 0; r < options.repeat; r++) {
      for (const system of options.systems) {
        const s = await drainOnce(system, server.url, server.pid, admin, options);
        samples.push(s);
        out(`${system} n=${options.n}: ${Math.round(s.tasksPerSec)} tasks/s, worker ${s.workerUs.toFixed(2)} µs/task, redis-server ${s.redisUs.toFixed(2)} µs/task`);
      }
    }
  } finally {
    admin?.disconnect();
    await server.stop();
  }
  out('');
  out('system          tasks/s  worker µs/task  redis µs/task  sum (medians)');
  for (const system of options.systems) {
    const mine = samples.filter((s) => s.system === system);
    const w = median(mine.map((s) => s.workerUs));
    const r = median(mine.map((s) => s.redisUs));
    out(
      `${system.padEnd(14)} ${String(Math.round(median(mine.map((s) => s.tasksPerSec)))).padStart(8)}  ${w.toFixed(2).padStart(14)}  ${r.toFixed(2).padStart(13)}  ${(w + r).toFixed(2).padStart(4)}`,
    );
  }
  return samples;
}

if (require.main === module) {
  let options: CpuProbeOptions | undefined;
  try {
    options = parseCpuArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`bench-cpu: ${e.message} (see --help)\n`);
    process.exitCode = 2;
  }
  if (options) {
    runCpuProbe(options, (line) => process.stdout.write(`${line}\n`)).then(
      () => process.exit(0),
      (e: unknown) => {
        process.stderr.write(`bench-cpu: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exit(1);
      },
    );
  }
}
