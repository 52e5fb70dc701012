import { Monitor, FlowNotFoundError } from '@taskq/monitor';
import { chain, chord, Flows, group, Queue, type FlowEvent } from '@taskq/queue';
import { InProcessPools } from './test-support/in-process-pool';
import { newQueueName, RedisClients, testRedisUrl } from './test-support/redis-fixture';

const clients = new RedisClients();
const pools = new InProcessPools();
const closers: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await pools.stopAll();
  await clients.close();
});

async function started(queue: string) {
  const monitor = new Monitor({ queue, connection: testRedisUrl(), log: false });
  await monitor.start();
  closers.push(() => monitor.stop());
  const flows = new Flows({ queue, connection: await clients.connect() });
  return { monitor, flows };
}

describe('flows run by worker pools', () => {
  it('a chord across two queues: members in parallel on both pools, the callback once with every result; waitForFlow and flow events', async () => {
    const q1 = newQueueName('flow-a');
    const q2 = newQueueName('flow-b');
    const { monitor, flows } = await started(q1);
    const events: FlowEvent[] = [];
    monitor.onFlowEvent((e) => events.push(e));
    const calls: string[] = [];
    const handlers = {
      square: (task: { payload: unknown; id: string }) => {
        calls.push(task.id);
        return (task.payload as number) ** 2;
      },
      sum: (task: { id: string; flow?: { inputs: Record<string, unknown> } }) => {
        calls.push(task.id);
        return Object.values(task.flow?.inputs ?? {}).reduce<number>((x, y) => x + (y as number), 0);
      },
    };
    await pools.start({ queue: q1 }, handlers, { concurrency: 4 });
    await pools.start({ queue: q2 }, handlers, { concurrency: 4 });
    const members = Array.from({ length: 6 }, (_, i) => ({ name: `m${i}`, type: 'square', payload: i + 1, queue: i % 2 === 0 ? q1 : q2 }));
    const { id } = await flows.add(chord(group(...members), { name: 'total', type: 'sum', queue: q2 }));
    const state = await monitor.waitForFlow(id, { timeoutMs: 20_000 });
    expect(state.status).toBe('FlowDone');
    expect(state.steps.find((s) => s.name === 'total')?.result).toBe(1 + 4 + 9 + 16 + 25 + 36);
    expect(calls.filter((c) => c === `${id}:total`)).toHaveLength(1);
    expect(calls.indexOf(`${id}:total`)).toBe(calls.length - 1);
    expect(await new Queue({ queue: q2, connection: await clients.connect() }).result(`${id}:total`)).toBe(91);
    // progress: the events counted done up to 7 of 7, then FlowDone
    const mine = events.filter((e) => e.flow === id);
    expect(mine.filter((e) => e.step !== undefined).map((e) => e.done)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(mine[mine.length - 1]).toMatchObject({ status: 'FlowDone', done: 7, total: 7 });
    // waiting for an ended flow resolves at once
    expect((await monitor.waitForFlow(id)).status).toBe('FlowDone');
  });

  it('failFast with real handlers: a member that throws on every attempt fails the flow; the callback never runs', async () => {
    const q = newQueueName('flow-ff');
    const { monitor, flows } = await started(q);
    const ran: string[] = [];
    await pools.start({ queue: q }, {
      ok: (task) => void ran.push(task.id),
      bad: () => {
        throw new Error('always');
      },
      cb: (task) => void ran.push(task.id),
    });
    const { id } = await flows.add(chord(group({ name: 'good', type: 'ok' }, { name: 'bad', type: 'bad', maxAttempts: 2, backoff: { type: 'fixed', delayMs: 10 } }), { name: 'cb', type: 'cb' }));
    const state = await monitor.waitForFlow(id, { timeoutMs: 20_000 });
    expect(state.status).toBe('FlowFailed');
    expect(state.reason).toBe('step bad Dead: always (attempt 2 of 2)');
    expect(state.steps.map((s) => [s.name, s.status])).toEqual([['good', 'Done'], ['bad', 'Dead'], ['cb', 'Cancelled']]);
    expect(ran).toEqual([`${id}:good`]);
  });

  it('cancel of a flow whose step is running: the handler is aborted, the flow ends FlowCancelled, the next step never runs', async () => {
    const q = newQueueName('flow-cancel');
    const { monitor, flows } = await started(q);
    const ran: string[] = [];
    let startedLong: () => void = () => undefined;
    const isRunning = new Promise<void>((resolve) => (startedLong = resolve));
    await pools.start({ queue: q }, {
      long: (_task, ctx) =>
        new Promise((_resolve, reject) => {
          startedLong();
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
        }),
      next: (task) => void ran.push(task.id),
    });
    const { id } = await flows.add(chain({ name: 'long', type: 'long' }, { name: 'next', type: 'next' }));
    await isRunning;
    expect(await flows.cancel(id, { reason: 'changed my mind' })).toBe('FlowCancelling');
    const state = await monitor.waitForFlow(id, { timeoutMs: 20_000 });
    expect(state).toMatchObject({ status: 'FlowCancelled', reason: 'changed my mind', cancelled: 2 });
    expect(ran).toEqual([]);
  });

  it('waitForFlow of an unknown flow rejects with FlowNotFoundError', async () => {
    const { monitor } = await started(newQueueName('flow-none'));
    await expect(monitor.waitForFlow('no-such-flow', { timeoutMs: 5000 })).rejects.toThrow(FlowNotFoundError);
  });
});
