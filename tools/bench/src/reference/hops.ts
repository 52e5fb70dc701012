/**
 * Latency floors of a trickle on this host, with no queue at all: raw ioredis,
 * one producer and one consumer process on a redis-server of its own.
 *   two-hop   the enqueue (a script: LPUSH + PUBLISH) wakes the consumer, which
 *             then takes the task with a script call (RPOP): the shape of taskq's
 *             wake + fetch, and of BullMQ's marker + moveToActive;
 *   handoff   the enqueue's script publishes the task itself; the consumer starts
 *             it on the message (one hop);
 *   blocking  the consumer blocks on BRPOP; the producer LPUSHes (one hop, as
 *             bee-queue's BRPOPLPUSH).
 * Each task carries its send time (performance.timeOrigin + now(), comparable
 * across processes); the consumer records start minus send. The modes are
 * interleaved, `--rounds` of each, 1,000 tasks/s for `--seconds`.
 *
 *   node tools/bench/dist/reference/hops.js [--rounds 5] [--seconds 5]
 */
import { fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { startRedisServer } from '@taskq/redis-harness';
import { median, percentile } from '../stats';

const MODES = ['two-hop', 'handoff', 'blocking'] as const;
type Mode = (typeof MODES)[number];

const wallMs = (): number => performance.timeOrigin + performance.now();

/** Runs in the forked process: records each task's start minus its send time, and sends them all once it has `expected`. */
async function consumer(mode: Mode, port: number, expected: number): Promise<void> {
  const redis = new Redis({ port });
  const sub = new Redis({ port });
  const latencies: number[] = [];
  const record = (id: string): void => {
    latencies.push(wallMs() - Number(id.split(':')[1]));
    if (latencies.length === expected) process.send?.(latencies, () => process.exit(0));
  };
  if (mode === 'blocking') {
    void (async () => {
      for (;;) {
        const got = await redis.brpop('ready', 0);
        if (got) record(got[1]);
      }
    })();
  } else {
    await sub.subscribe('wake');
    sub.on('message', (_channel: string, message: string) => {
      if (mode === 'handoff') return record(message);
      void redis.eval("return redis.call('RPOP', KEYS[1])", 1, 'ready').then((id) => {
        if (typeof id === 'string') record(id);
      });
    });
  }
  process.send?.('ready');
}

const USAGE = 'usage: node tools/bench/dist/reference/hops.js [--rounds N] [--seconds N]';

/** `--<name> N` from the command line (a whole number >= 1), or `fallback`; anything else: usage, exit 2. */
function arg(name: string, fallback: number): number {
  const known = new Set(['--rounds', '--seconds']);
  const flags = process.argv.slice(2).filter((a, i, all) => a.startsWith('-') || (i === 0 || !known.has(all[i - 1] ?? '')));
  const unknown = flags.find((a) => !known.has(a));
  const i = process.argv.indexOf(`--${name}`);
  const value = i < 0 ? fallback : Number(process.argv[i + 1]);
  if (unknown !== undefined || !Number.isInteger(value) || value < 1) {
    process.stderr.write(`hops: ${unknown !== undefined ? `unknown argument ${unknown}` : `--${name} must be a whole number >= 1`}\n${USAGE}\n`);
    process.exit(2);
  }
  return value;
}

async function main(): Promise<void> {
  const rounds = arg('rounds', 5);
  const tasks = arg('seconds', 5) * 1000;
  const server = await startRedisServer();
  const runs = new Map<Mode, { p50: number; p99: number }[]>();
  try {
    for (let round = 0; round < rounds; round++) {
      for (const mode of MODES) {
        const redis = new Redis(server.url);
        await redis.del('ready');
        const child = fork(__filename, ['consumer', mode, String(server.port), String(tasks)]);
        await new Promise((resolve) => child.once('message', resolve));
        const recorded = new Promise<number[]>((resolve) => child.once('message', (m) => resolve(m as number[])));
        const t0 = wallMs();
        for (let i = 0; i < tasks; i++) {
          const due = t0 + i;
          if (wallMs() < due) await new Promise((resolve) => setTimeout(resolve, due - wallMs()));
          const id = `t${i}:${wallMs()}`;
          if (mode === 'two-hop') void redis.eval("redis.call('LPUSH', KEYS[1], ARGV[1]); return redis.call('PUBLISH', 'wake', '1')", 1, 'ready', id);
          else if (mode === 'handoff') void redis.eval("return redis.call('PUBLISH', 'wake', ARGV[1])", 0, id);
          else void redis.lpush('ready', id);
        }
        const sorted = [...(await recorded)].sort((a, b) => a - b);
        runs.set(mode, [...(runs.get(mode) ?? []), { p50: percentile(sorted, 50), p99: percentile(sorted, 99) }]);
        redis.disconnect();
      }
    }
  } finally {
    await server.stop();
  }
  for (const mode of MODES) {
    const r = runs.get(mode) ?? [];
    const f = (v: number): string => v.toFixed(3);
    process.stdout.write(
      `${mode.padEnd(9)} p50 ${f(median(r.map((x) => x.p50)))} ms, p99 ${f(median(r.map((x) => x.p99)))} ms (medians of ${r.length} runs of ${tasks} tasks at 1,000/s; p99s ${r.map((x) => f(x.p99)).join(' ')})\n`,
    );
  }
}

if (process.argv[2] === 'consumer') {
  void consumer(process.argv[3] as Mode, Number(process.argv[4]), Number(process.argv[5]));
} else {
  main().catch((err: unknown) => {
    process.stderr.write(`hops: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
