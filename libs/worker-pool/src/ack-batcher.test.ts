import type { AckItem, Consumer } from '@taskq/queue';
import { AckBatcher } from './ack-batcher';

/** A consumer whose ackMany records its batches and accepts every ack but the ones named. */
function fakeConsumer(refuse: ReadonlySet<string> = new Set()) {
  const batches: string[][] = [];
  const consumer = {
    ackMany: async (items: readonly AckItem[]) => {
      batches.push(items.map((i) => i.id));
      return items.map((i) => !refuse.has(i.id));
    },
  } as unknown as Consumer;
  return { consumer, batches };
}

describe('AckBatcher', () => {
  it('holds acks for the loop to take, and settles each with its own flag', async () => {
    const { consumer, batches } = fakeConsumer();
    let queued = 0;
    const acks = new AckBatcher(consumer, 500, () => queued++);
    const a = acks.ack('a', 'w1', '1');
    const b = acks.ack('b', 'w2', '2');
    expect(queued).toBe(2);
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([]); // nothing goes on its own while a loop takes them
    const taken = acks.take();
    expect(taken?.items.map((i) => i.id)).toEqual(['a', 'b']);
    taken?.settle([true, false]);
    await expect(a).resolves.toBe(true);
    await expect(b).resolves.toBe(false);
    expect(acks.take()).toBeUndefined();
  });

  it('takes at most maxBatch at a time', () => {
    const { consumer } = fakeConsumer();
    const acks = new AckBatcher(consumer, 2);
    for (const id of ['a', 'b', 'c']) void acks.ack(id, 'w', '1');
    expect(acks.take()?.items.map((i) => i.id)).toEqual(['a', 'b']);
    expect(acks.take()?.items.map((i) => i.id)).toEqual(['c']);
  });

  it('rejects every ack of a taken batch whose round trip failed', async () => {
    const { consumer } = fakeConsumer();
    const acks = new AckBatcher(consumer);
    const a = acks.ack('a', 'w', '1');
    acks.take()?.fail(new Error('connection lost'));
    await expect(a).rejects.toThrow('connection lost');
  });

  it('after sendDirectly() sends what is pending and every later ack in batches of its own', async () => {
    const { consumer, batches } = fakeConsumer(new Set(['c']));
    const acks = new AckBatcher(consumer);
    const a = acks.ack('a', 'w', '1');
    acks.sendDirectly();
    await expect(a).resolves.toBe(true);
    const [b, c] = [acks.ack('b', 'w', '1'), acks.ack('c', 'w', '1')];
    await expect(b).resolves.toBe(true);
    await expect(c).resolves.toBe(false);
    expect(batches).toEqual([['a'], ['b', 'c']]);
  });
});
