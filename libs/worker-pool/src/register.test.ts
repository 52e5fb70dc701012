import 'reflect-metadata'; // tsyringe's own import needs it (an app imports it first); taskq does not
import RedisMock from 'ioredis-mock';
import type { Redis } from 'ioredis';
import { container } from 'tsyringe';
import { Janitor, Queue, registerQueue, TOKENS, type QueueConfig } from '@taskq/queue';
import { registerWorkerPool } from './register';
import { WorkerPool } from './worker-pool';
import type { HandlerMap } from './handler';
import type { WorkerPoolSettings } from './options';
import { waitFor } from './test-support/wait-for';

describe('registerWorkerPool with tsyringe (the README example)', () => {
  let redis: Redis;
  afterEach(() => redis.disconnect());

  it('resolves a working pool from TOKENS.Connection and TOKENS.QueueConfig alone (no options, no logger registered)', async () => {
    redis = new RedisMock({ port: 45_123 });
    const c = registerWorkerPool(registerQueue(container.createChildContainer()));
    c.register(TOKENS.Connection, { useValue: redis });
    c.register<QueueConfig>(TOKENS.QueueConfig, { useValue: { queue: 'di' } });
    const done: string[] = [];
    c.register<HandlerMap>(TOKENS.Handlers, { useValue: { note: (task) => void done.push(task.id) } });
    const pool = c.resolve(WorkerPool);
    expect(c.resolve(WorkerPool)).toBe(pool);
    await pool.start();
    try {
      const task = await c.resolve(Queue).enqueue({ id: 'di-1', type: 'note' });
      await waitFor(() => 'the task to be handled', () => done.length > 0);
      expect(done).toEqual([task.id]);
    } finally {
      await pool.stop(0);
    }
  });

  it('passes TOKENS.WorkerPoolOptions and TOKENS.JanitorOptions through', () => {
    redis = new RedisMock({ port: 45_124 });
    const c = registerWorkerPool(registerQueue(container.createChildContainer()));
    c.register(TOKENS.Connection, { useValue: redis });
    c.register<QueueConfig>(TOKENS.QueueConfig, { useValue: { queue: 'di2' } });
    c.register<WorkerPoolSettings>(TOKENS.WorkerPoolOptions, { useValue: { consumerId: 'pod-7', concurrency: 3 } });
    c.register(TOKENS.JanitorOptions, { useValue: { staleAfterMs: 9000 } });
    expect(c.resolve(WorkerPool).consumer.id).toBe('pod-7');
    expect(c.resolve(Janitor).staleAfterMs).toBe(9000);
  });
});

describe('registerQueue in tsyringe containers', () => {
  it('builds one object per resolving container from its own registrations, whichever resolves first', async () => {
    const parent = registerQueue(container.createChildContainer());
    parent.register(TOKENS.Connection, { useValue: 'redis://127.0.0.1:1/0' });
    parent.register<QueueConfig>(TOKENS.QueueConfig, { useValue: { queue: 'parent' } });
    const child = parent.createChildContainer();
    child.register(TOKENS.Connection, { useValue: 'redis://127.0.0.1:2/0' });
    child.register<QueueConfig>(TOKENS.QueueConfig, { useValue: { queue: 'child' } });

    const inChild = child.resolve(Queue);
    const inParent = parent.resolve(Queue);
    expect([inChild.name, inChild.connection.address]).toEqual(['child', 'redis://127.0.0.1:2/0']);
    expect([inParent.name, inParent.connection.address]).toEqual(['parent', 'redis://127.0.0.1:1/0']);
    expect(child.resolve(Queue)).toBe(inChild);
    expect(parent.resolve(Queue)).toBe(inParent);
    await inChild.close(); // never connected: nothing to quit
    await inParent.close();
  });

  it('refuses to build an unregistered class with made-up defaults (no silent connection to 127.0.0.1:6379)', () => {
    const bare = container.createChildContainer();
    expect(() => bare.resolve(Queue)).toThrow(/TypeInfo not known for "?Queue/);
    expect(() => bare.resolve(WorkerPool)).toThrow(/TypeInfo not known for "?WorkerPool/);
    expect(() => bare.resolve(Janitor)).toThrow(/TypeInfo not known for "?Janitor/);
  });
});
