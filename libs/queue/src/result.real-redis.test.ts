import { Consumer } from './consumer';
import { queueKeys } from './keys';
import { Queue } from './queue';
import { monitored } from '@taskq/redis-harness';
import { useRedisServer } from './test-support/redis-server';

const real = useRedisServer();

describe('results on the ack path (redis-server)', () => {
  async function held(queue: string, n: number) {
    const config = { queue, connection: real.redis };
    const consumer = new Consumer({ ...config, id: 'c1' });
    await consumer.register();
    const q = new Queue(config);
    await q.enqueueMany(Array.from({ length: n }, (_, i) => ({ id: `t${i}`, type: 'x' })));
    const first = await consumer.fetch(Array.from({ length: n }, (_, i) => `w${i}`));
    return { consumer, q, tasks: first.tasks };
  }

  it('acks of handlers that returned undefined run no command on the results key (and the same commands as before)', async () => {
    const k = queueKeys('res-none');
    const { consumer, tasks } = await held('res-none', 20);
    const commands = await monitored(real.server.url, async () => {
      const reply = await consumer.exchange(tasks.map((t) => ({ id: t.id, worker: t.worker, token: t.token })), []);
      expect(reply.acks.filter(Boolean)).toHaveLength(20);
    });
    // (the script call names every key it may touch: only its own commands count)
    expect(commands.filter((c) => c.lua && c.args.includes(k.results))).toEqual([]);
    expect(await real.redis.exists(k.results)).toBe(0);
  });

  it('results are written by one HSET inside the fetch script that records the acks Done', async () => {
    const k = queueKeys('res-some');
    const { consumer, q, tasks } = await held('res-some', 4);
    const commands = await monitored(real.server.url, async () => {
      const reply = await consumer.exchange(
        tasks.map((t, i) => ({ id: t.id, worker: t.worker, token: t.token, result: i % 2 === 0 ? JSON.stringify({ i }) : undefined })),
        [],
      );
      expect(reply.acks).toEqual([true, true, true, true]);
    });
    // one script call from the client; the HSET is one of its own commands
    const fromClient = commands.filter((c) => !c.lua && c.args[0].toLowerCase() !== 'echo');
    expect(fromClient.map((c) => c.args[0].toLowerCase())).toEqual(['evalsha']);
    const touching = commands.filter((c) => c.lua && c.args.includes(k.results));
    expect(touching).toEqual([{ args: ['HSET', k.results, tasks[0].id, '{"i":0}', tasks[2].id, '{"i":2}'], lua: true }]);
    // the same script writes the Done records (its HSET of the status hash)
    expect(commands.filter((c) => c.lua && c.args[0].toLowerCase() === 'hset' && c.args[1] === k.status)).toHaveLength(1);
    expect(await q.result(tasks[0].id)).toEqual({ i: 0 });
    expect(await q.result(tasks[1].id)).toBeUndefined();
    expect((await q.status(tasks[2].id))?.status).toBe('Done');
  });
});
