import RedisMock from 'ioredis-mock';
import type { Redis } from 'ioredis';
import { Queue, type Task } from '@taskq/queue';
import { WorkerPool } from './worker-pool';
import type { HandlerMap } from './handler';
import { waitFor } from './test-support/wait-for';

/**
 * Typed task maps. The `@ts-expect-error` lines are checked by `npm run
 * typecheck` (tsc over the tests): each must stay an error, or the check fails.
 */
interface Tasks {
  'send-email': { to: string; subject?: string };
  resize: { url: string; width: number };
}

let port = 46_000 + Math.floor(Math.random() * 1000);
const opened: Redis[] = [];
afterEach(() => {
  for (const r of opened.splice(0)) r.disconnect();
});
function mock(): Redis {
  const r = new RedisMock({ port: port++ });
  opened.push(r);
  return r;
}

describe('typed task maps', () => {
  it('enqueue takes a known type with its payload, in both forms, and returns the typed task', async () => {
    const queue = new Queue<Tasks>({ queue: 'typed', connection: mock() });
    const a: Task<Tasks['send-email']> = await queue.enqueue('send-email', { to: 'a@example.com' });
    const b = await queue.enqueue({ type: 'resize', payload: { url: 'https://x/y.png', width: 100 }, maxAttempts: 2 });
    const width: number = b.payload.width;
    expect([a.payload.to, width]).toEqual(['a@example.com', 100]);
    const many = await queue.enqueueMany([
      { type: 'send-email', payload: { to: 'b@example.com' } },
      { type: 'resize', payload: { url: 'u', width: 1 } },
    ]);
    expect(many.map((t) => t.type)).toEqual(['send-email', 'resize']);

    // @ts-expect-error: not a type of the map
    await queue.enqueue('send-sms', { to: 'x' }).catch(() => undefined);
    // @ts-expect-error: the payload of send-email has no width, and needs `to`
    await queue.enqueue('send-email', { width: 1 }).catch(() => undefined);
    // @ts-expect-error: payload required for a type whose payload cannot be null
    await queue.enqueue({ type: 'resize' }).catch(() => undefined);
    const kind = Math.random() < 2 ? ('resize' as const) : ('send-email' as const);
    // @ts-expect-error: a type known only as one of two must get a payload that fits both
    await queue.enqueue(kind, { url: 'u', width: 1 }).catch(() => undefined);
    // @ts-expect-error: a payload of the wrong type in the batch form
    await queue.enqueueMany([{ type: 'resize', payload: { to: 'a' } }]).catch(() => undefined);
  });

  it('handlers get their type payload; unknown types and wrong payloads are compile errors', async () => {
    const redis = mock();
    const seen: string[] = [];
    const pool = new WorkerPool<Tasks>({
      queue: 'typed',
      connection: redis,
      idlePollMs: 50,
      handlers: {
        'send-email': (task) => {
          const to: string = task.payload.to;
          seen.push(to);
        },
      },
    });
    pool.handle('resize', (task) => {
      const w: number = task.payload.width;
      seen.push(String(w));
    });
    const unstarted = new WorkerPool<Tasks>({ queue: 'typed', connection: redis });
    // @ts-expect-error: resize payloads have no `to`
    unstarted.handle('resize', (task) => seen.push(task.payload.to)); // eslint-disable-line @typescript-eslint/no-unsafe-argument -- the type error is what this line tests
    // @ts-expect-error: not a type of the map
    unstarted.handle('send-sms', () => undefined);
    // @ts-expect-error: a handler map with a type the map does not have
    const wrong: HandlerMap<Tasks> = { 'send-sms': () => undefined };
    expect(wrong).toBeDefined();

    await pool.start();
    try {
      const queue = new Queue<Tasks>({ queue: 'typed', connection: redis });
      await queue.enqueue('send-email', { to: 'c@example.com' });
      await queue.enqueue('resize', { url: 'u', width: 640 });
      await waitFor(() => `both tasks handled, saw ${JSON.stringify(seen)}`, () => seen.length >= 2);
      expect(seen.sort()).toEqual(['640', 'c@example.com']);
    } finally {
      await pool.stop(0);
    }
  });

  it('untyped queues take any type and any JSON payload', async () => {
    const queue = new Queue({ queue: 'untyped', connection: mock() });
    const t = await queue.enqueue('anything', { nested: [1, 'two', null] });
    expect(t.type).toBe('anything');
    expect((await queue.enqueue({ type: 'no-payload' })).payload).toBeNull();
  });
});
