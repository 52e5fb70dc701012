import type { Redis } from 'ioredis';
import { connectRedis } from '@taskq/queue';
import { startRedisServer, type RedisServer } from '@taskq/redis-harness';
import { measureRedisCost, parseCommandStats, parseRedisCostSnapshot, redisCostBetween, redisCostPerTask, redisCostSummary, tasksPerSecPerRedisCore } from './redis-cost';

describe('parsing INFO', () => {
  const info = [
    '# CPU',
    'used_cpu_sys:1.250000',
    'used_cpu_user:2.500125',
    '# Stats',
    'total_commands_processed:1000',
    'total_reads_processed:300',
    '# Commandstats',
    'cmdstat_evalsha:calls=40,usec=800,usec_per_call=20.00,rejected_calls=0,failed_calls=0',
    'cmdstat_client|setname:calls=2,usec=1,usec_per_call=0.50,rejected_calls=0,failed_calls=0',
    'cmdstat_lpush:calls=7,usec=7,usec_per_call=1.00,rejected_calls=0,failed_calls=0',
  ].join('\r\n');

  it('reads CPU µs, commands and calls per command', () => {
    const s = parseRedisCostSnapshot(info);
    expect(s.cpuUs).toBe(3_750_125);
    expect(s.commands).toBe(1000);
    expect(s.reads).toBe(300);
    expect(parseCommandStats(info)).toEqual(
      new Map([
        ['evalsha', 40],
        ['client|setname', 2],
        ['lpush', 7],
      ]),
    );
  });

  it('refuses INFO without the cpu fields', () => {
    expect(() => parseRedisCostSnapshot('total_commands_processed:3')).toThrow(/used_cpu_user/);
  });

  it('takes differences, counts script calls apart and divides per task', () => {
    const before = { cpuUs: 1000, commands: 10, reads: 5, calls: new Map([['evalsha', 4]]) };
    const after = {
      cpuUs: 5000,
      commands: 60,
      reads: 25,
      calls: new Map([
        ['evalsha', 24],
        ['eval', 1],
        ['fcall_ro', 5],
        ['get', 10],
        ['ping', 0],
      ]),
    };
    const cost = redisCostBetween(before, after);
    expect(cost).toEqual({ cpuUs: 4000, commands: 50, reads: 20, scriptCalls: 26, byCommand: { evalsha: 20, eval: 1, fcall_ro: 5, get: 10 } });
    expect(redisCostPerTask(cost, 10)).toEqual({ redisUsPerTask: 400, redisCommandsPerTask: 5, redisReadsPerTask: 2, redisScriptCallsPerTask: 2.6 });
    expect(() => redisCostPerTask(cost, 0)).toThrow(/tasks must be > 0/);
  });
});

describe('over repeated runs', () => {
  const run = (us: number, commands: number, reads: number, scripts: number) => ({
    redisUsPerTask: us,
    redisCommandsPerTask: commands,
    redisReadsPerTask: reads,
    redisScriptCallsPerTask: scripts,
  });

  it('takes the median of each figure on its own, and keeps every run\'s µs per task in run order', () => {
    const summary = redisCostSummary([run(30, 4, 0.2, 1), run(10, 6, 0.1, 3), run(20, 5, 0.3, 2)]);
    expect(summary).toEqual({
      redisUsPerTask: 20,
      redisCommandsPerTask: 5,
      redisReadsPerTask: 0.2,
      redisScriptCallsPerTask: 2,
      runsRedisUsPerTask: [30, 10, 20],
    });
    expect(() => redisCostSummary([])).toThrow(RangeError);
  });

  it('gives tasks/s per Redis core as 1e6 / µs per task, and none without a measured CPU time', () => {
    expect(tasksPerSecPerRedisCore(8)).toBe(125_000);
    expect(tasksPerSecPerRedisCore(0)).toBeUndefined();
    expect(tasksPerSecPerRedisCore(undefined)).toBeUndefined();
  });
});

describe('measureRedisCost on a real redis-server', () => {
  let server: RedisServer;
  let admin: Redis;
  let client: Redis;

  beforeAll(async () => {
    server = await startRedisServer();
    admin = await connectRedis(server.url);
    client = await connectRedis(server.url);
  }, 30_000);

  afterAll(async () => {
    admin?.disconnect();
    client?.disconnect();
    await server?.stop();
  });

  it('counts the commands, round trips and scripts of a run, and the CPU Redis spent on them', async () => {
    const script = "local n = 0 for i = 1, 20000 do n = n + redis.call('INCR', KEYS[1]) end return n";
    const { result, cost } = await measureRedisCost(admin, async () => {
      for (let i = 0; i < 20; i++) await client.set(`k${i}`, 'v');
      for (let i = 0; i < 5; i++) await client.eval(script, 1, 'counter');
      // one pipeline of 30 GETs: one write from the client, read by Redis at once
      await client.pipeline(Array.from({ length: 30 }, (_, i) => ['get', `k${i}`])).exec();
      return 'done';
    });
    expect(result).toBe('done');
    expect(cost.byCommand.set).toBe(20);
    expect(cost.byCommand.eval).toBe(5);
    expect(cost.byCommand.incr).toBe(100_000);
    expect(cost.byCommand.get).toBe(30);
    expect(cost.scriptCalls).toBe(5);
    // 20 SETs + 5 EVALs + their 100,000 INCRs + 30 GETs, and the snapshots' INFO calls
    expect(cost.commands).toBeGreaterThanOrEqual(100_055);
    expect(cost.commands).toBeLessThan(100_065);
    // 25 awaited requests + the pipeline (read in one or a few reads) + the snapshots' INFO
    expect(cost.reads).toBeGreaterThanOrEqual(26);
    expect(cost.reads).toBeLessThan(35);
    // 100,000 INCRs from Lua take well over a millisecond of Redis's CPU
    expect(cost.cpuUs).toBeGreaterThan(1000);
  });
});
