import { Redis } from 'ioredis';
import { Consumer } from './consumer';
import { queueKeys } from './keys';
import { Queue } from './queue';
import { useRedisServer } from './test-support/redis-server';

const real = useRedisServer();

/** The commands scripts run while `body` runs (MONITOR shows them with the source `lua`). */
async function monitored(body: () => Promise<void>): Promise<string[][]> {
  const base = new Redis(real.server.url);
  const monitor = await base.monitor();
  const seen: string[][] = [];
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (source.includes('lua') || args[0].toLowerCase() === 'echo') seen.push(args);
  });
  try {
    await body();
    // MONITOR lags the commands: wait for a marker sent after them
    const marker = `end-${Math.random()}`;
    await real.redis.echo(marker);
    const deadline = Date.now() + 5000;
    while (!seen.some((a) => a[0].toLowerCase() === 'echo' && a[1] === marker)) {
      if (Date.now() > deadline) throw new Error('MONITOR did not show the marker');
      await new Promise((r) => setTimeout(r, 10));
    }
    return seen;
  } finally {
    monitor.disconnect();
    base.disconnect();
  }
}

describe('throughput counting costs the hot path one command per ack batch (redis-server)', () => {
  it('a fetch that acknowledges 50 tasks runs one HINCRBY (by 50); a fetch without acks none', async () => {
    const k = queueKeys('tp-cost');
    const config = { queue: 'tp-cost', connection: real.redis };
    const consumer = new Consumer({ ...config, id: 'c1' });
    await consumer.register();
    await new Queue(config).enqueueMany(Array.from({ length: 100 }, (_, i) => ({ id: `t${i}`, type: 'x' })));
    const workers = Array.from({ length: 50 }, (_, i) => `w${i}`);
    const commands = await monitored(async () => {
      const first = await consumer.fetch(workers);
      const second = await consumer.exchange(first.tasks.map((t) => ({ id: t.id, worker: t.worker, token: t.token })), workers);
      expect(second.acks.filter(Boolean)).toHaveLength(50);
    });
    const touching = commands.filter((args) => args.slice(1).includes(k.throughput));
    expect(touching).toHaveLength(1);
    expect(touching[0]?.[0]?.toLowerCase()).toBe('hincrby');
    expect(touching[0]?.[2]).toMatch(/^\d+:done$/);
    expect(touching[0]?.[3]).toBe('50');
  });
});
