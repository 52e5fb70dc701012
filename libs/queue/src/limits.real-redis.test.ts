import { queueKeys } from './keys';
import { Consumer } from './consumer';
import { Janitor } from './janitor';
import { Queue } from './queue';
import { monitored } from '@taskq/redis-harness';
import { useRedisServer } from './test-support/redis-server';

const real = useRedisServer();

/** The commands scripts ran while `body` ran (MONITOR shows them with the source `lua`). */
async function scriptCommands(body: () => Promise<void>): Promise<string[][]> {
  return (await monitored(real.server.url, body)).filter((c) => c.lua).map((c) => c.args);
}

describe('global limits cost a queue without any (redis-server)', () => {
  it('one EXISTS of the limits key per fetch, ack, fail, release or reconcile, and one per janitor pass; nothing else touches the limits', async () => {
    const k = queueKeys('nolimit');
    const config = { queue: 'nolimit', connection: real.redis };
    const queue = new Queue(config);
    const consumer = new Consumer({ ...config, id: 'c1' });
    await consumer.register();
    await queue.enqueueMany(Array.from({ length: 10 }, (_, i) => ({ id: `t${i}`, type: i % 2 ? 'email' : 'sms' })));
    const limitKeys = new Set([k.limits, k.limitHeld, k.limitActive, k.limitStarts, k.parked]);
    const commands = await scriptCommands(async () => {
      const first = await consumer.fetch(['a', 'b', 'c', 'd']); // 1
      const [a, b, c, d] = first.tasks;
      await consumer.exchange([{ id: a.id, worker: a.worker, token: a.token }], ['a']); // 2: ack and fetch
      await consumer.fail(b.id, b.worker, b.token, { mode: 'dead', reason: 'x' }); // 3
      await consumer.release([c.id], 'stopping'); // 4
      await consumer.reconcile([]); // 5: returns d and the task fetched for a
      void d;
      await consumer.unregister(); // recover with nothing held: no limit work at all
      await new Janitor(config).runOnce(); // the repair: one EXISTS of the five keys
    });
    const touching = commands.filter((args) => args.slice(1).some((arg) => limitKeys.has(arg)));
    expect(touching.map((args) => [args[0].toLowerCase(), ...args.slice(1)])).toEqual([
      ...Array.from({ length: 5 }, () => ['exists', k.limits]),
      ['exists', k.limits, k.limitHeld, k.limitActive, k.limitStarts, k.parked],
    ]);
  });
});
