import { Redis } from 'ioredis';
import { silentLogger, type LogFn, type Logger } from '@taskq/recorder';
import { startRedisServer, type RedisServer } from '@taskq/redis-harness';
import { Consumer } from './consumer';
import { Janitor } from './janitor';
import { queueKeys } from './keys';

function warningsLogger(lines: string[]): Logger {
  const keep: LogFn = (a: object | string, msg?: string) => {
    lines.push(typeof a === 'string' ? a : (msg ?? ''));
  };
  return { ...silentLogger, warn: keep, child: () => warningsLogger(lines) };
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('Janitor when Redis refused every write (maxmemory, noeviction), on a real redis-server', () => {
  let server: RedisServer;
  let redis: Redis;

  beforeAll(async () => {
    server = await startRedisServer();
    redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
    await redis.config('SET', 'maxmemory-policy', 'noeviction');
  });

  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });

  it('presumes no live consumer dead right after the refusals end, and a dead one only once its own commands have worked for staleAfterMs', async () => {
    const config = { queue: 'oom-jan', connection: redis };
    const k = queueKeys('oom-jan');
    const live = new Consumer({ ...config, id: 'live' });
    await live.register();
    const warnings: string[] = [];
    const staleAfterMs = 400;
    const janitor = new Janitor({ ...config, staleAfterMs, logger: warningsLogger(warnings) });
    expect((await janitor.runOnce()).recovered.size).toBe(0);

    await redis.config('SET', 'maxmemory', '1');
    /** Taken just before the janitor's last failing pass: its failure is no earlier. */
    let lastFailingPassAt = 0;
    try {
      await expect(live.heartbeat()).rejects.toThrow(/^OOM/); // everyone's writes are refused
      await expect(janitor.runOnce()).rejects.toThrow(/^OOM/); // the janitor's too
      const beat = Number(await redis.zscore(k.consumers, 'live'));
      // the janitor keeps running its passes, and they keep failing
      await until('the live consumer to look stale', async () => {
        lastFailingPassAt = Date.now();
        await expect(janitor.runOnce()).rejects.toThrow(/^OOM/);
        return Date.now() - beat > staleAfterMs + 50;
      });
    } finally {
      await redis.config('SET', 'maxmemory', '0');
    }
    // a dead consumer too: its last heartbeat a minute ago
    await redis.zadd(k.consumers, Date.now() - 60_000, 'dead');

    const first = await janitor.runOnce();
    expect(first.ran).toBe(true);
    expect([...first.recovered]).toEqual([]);
    expect(warnings.filter((w) => w.includes("this janitor's own commands failed"))).toHaveLength(1);
    expect((await live.heartbeat()).alive).toBe(true); // still registered: not presumed dead

    // the live one keeps beating; the dead one is recovered once the janitor's commands worked for staleAfterMs
    let recovered: string[] = [];
    await until('the dead consumer to be recovered', async () => {
      expect((await live.heartbeat()).alive).toBe(true);
      recovered = [...(await janitor.runOnce()).recovered.keys()];
      return recovered.length > 0;
    });
    expect(recovered).toEqual(['dead']);
    expect(Date.now() - lastFailingPassAt).toBeGreaterThanOrEqual(staleAfterMs);
    expect(warnings.filter((w) => w.includes("this janitor's own commands failed"))).toHaveLength(1);
  });
});
