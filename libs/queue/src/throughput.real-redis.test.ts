import { Consumer } from './consumer';
import { queueKeys } from './keys';
import { Queue } from './queue';
import { monitored } from '@taskq/redis-harness';
import { useRedisServer } from './test-support/redis-server';

const real = useRedisServer();

/** The commands scripts ran while `body` ran (MONITOR shows them with the source `lua`). */
async function scriptCommands(body: () => Promise<void>): Promise<string[][]> {
  return (await monitored(real.server.url, body)).filter((c) => c.lua).map((c) => c.args);
}

describe('throughput counting costs the hot path one command per ack batch (redis-server)', () => {
  it('a fetch that acknowledges 50 tasks runs one HINCRBY (by 50); a fetch without acks none', async () => {
    const k = queueKeys('tp-cost');
    const config = { queue: 'tp-cost', connection: real.redis };
    const consumer = new Consumer({ ...config, id: 'c1' });
    await consumer.register();
    await new Queue(config).enqueueMany(Array.from({ length: 100 }, (_, i) => ({ id: `t${i}`, type: 'x' })));
    const workers = Array.from({ length: 50 }, (_, i) => `w${i}`);
    const commands = await scriptCommands(async () => {
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
