import 'reflect-metadata'; // tsyringe's own import needs it (apps import it first); the monitor does not
import type { Redis } from 'ioredis';
import { container } from 'tsyringe';
import { TaskStatus, type StatusRecord } from '@taskq/recorder';
import { TOKENS } from '@taskq/queue';
import { Monitor } from './monitor';
import { registerMonitor } from './register';
import { Harness } from './test-support/harness';

describe('Monitor', () => {
  let h: Harness;

  afterEach(async () => {
    await h.close();
  });

  it('keeps the latest record per task and logs each change', async () => {
    h = new Harness();
    await h.monitor.start();
    const failed = h.next('task_3', TaskStatus.Failed);

    await h.record('task_12', TaskStatus.Queued);
    await h.record('task_12', TaskStatus.InProgress, { attempt: 1, worker: 'w1/0' });
    await h.record('task_3', TaskStatus.Failed, { attempt: 1, worker: 'w1/1', reason: 'no handler for type "x"' });
    const record = await failed;

    expect(record).toMatchObject({ id: 'task_3', status: 'Failed', reason: 'no handler for type "x"' });
    expect(h.monitor.latest('task_12')).toMatchObject({ status: 'InProgress', attempt: 1, worker: 'w1/0', seq: 2 });
    expect(h.monitor.latest('task_3')).toEqual(record);
    expect(h.monitor.latest('nope')).toBeUndefined();
    expect(h.logger.messages('info')).toEqual([
      '[Monitor] Task task_12 is Queued',
      '[Monitor] Task task_12 is InProgress',
      '[Monitor] Task task_3 is Failed (no handler for type "x")',
    ]);
    expect(h.logger.lines.filter((l) => l.level === 'info')[1]?.obj).toEqual({
      taskId: 'task_12',
      status: 'InProgress',
      attempt: 1,
      worker: 'w1/0',
      reason: undefined,
    });
  });

  it('does not log changes with log: false', async () => {
    h = new Harness({ log: false });
    await h.monitor.start();
    const done = h.next('t1', TaskStatus.Done);
    await h.record('t1', TaskStatus.Done);
    await done;
    expect(h.monitor.latest('t1')?.status).toBe('Done');
    expect(h.logger.messages('info')).toEqual([]);
  });

  it('filters onStatus callbacks by task id and status, and unsubscribes', async () => {
    h = new Harness();
    await h.monitor.start();
    const byId: string[] = [];
    const any: string[] = [];
    const finals: string[] = [];
    const single: string[] = [];
    const removed: string[] = [];
    h.monitor.onStatus('a', '*', (r) => byId.push(`${r.id}:${r.status}`));
    h.monitor.onStatus('*', '*', (r) => any.push(`${r.id}:${r.status}`));
    h.monitor.onStatus('*', [TaskStatus.Done, TaskStatus.Failed], (r) => finals.push(`${r.id}:${r.status}`));
    h.monitor.onStatus('b', TaskStatus.InProgress, (r) => single.push(`${r.id}:${r.status}`));
    const off = h.monitor.onStatus('*', '*', (r) => removed.push(r.id));
    off();
    off(); // idempotent

    const last = h.next('b', TaskStatus.Failed);
    await h.record('a', TaskStatus.Queued);
    await h.record('b', TaskStatus.InProgress, { attempt: 1 });
    await h.record('a', TaskStatus.Done, { attempt: 1 });
    await h.record('b', TaskStatus.Failed, { attempt: 1, reason: 'boom' });
    await last;

    expect(byId).toEqual(['a:Queued', 'a:Done']);
    expect(any).toEqual(['a:Queued', 'b:InProgress', 'a:Done', 'b:Failed']);
    expect(finals).toEqual(['a:Done', 'b:Failed']);
    expect(single).toEqual(['b:InProgress']);
    expect(removed).toEqual([]);
  });

  it('keeps calling other callbacks when one throws, and logs a warning', async () => {
    h = new Harness();
    await h.monitor.start();
    h.monitor.onStatus('*', '*', () => {
      throw new Error('callback bug');
    });
    const seen = h.next('t1');
    await h.record('t1', TaskStatus.Queued);
    expect((await seen).status).toBe('Queued');
    expect(h.logger.messages('warn')).toContain('[Monitor] A status callback threw');
  });

  it('warns about and ignores messages that are not status records', async () => {
    h = new Harness();
    await h.monitor.start();
    await h.redis.publish(h.keys.events, 'not json');
    await h.redis.publish(h.keys.events, JSON.stringify([{ id: 'x', status: 'Bogus', attempt: 0, at: 0, seq: 1 }]));
    // a lone record, not in a list, is not a message of the channel either
    await h.redis.publish(h.keys.events, JSON.stringify({ id: 'x', status: 'Done', attempt: 0, at: 0, seq: 1 }));
    const seen = h.next('t1');
    await h.record('t1', TaskStatus.Queued);
    await seen;
    expect(h.logger.messages('warn')).toEqual([
      '[Monitor] Ignoring a message that is not a list of status records',
      '[Monitor] Ignoring a message that is not a list of status records',
      '[Monitor] Ignoring a message that is not a list of status records',
    ]);
    expect(h.monitor.latest('x')).toBeUndefined();
    expect(h.monitor.latest('t1')?.status).toBe('Queued');
  });

  it('ignores other channels on a shared subscriber', async () => {
    h = new Harness();
    await h.monitor.start();
    await h.subscribers[0]?.subscribe('other');
    const other: Redis = h.redis;
    await other.publish('other', JSON.stringify([{ id: 'o', status: 'Done', attempt: 0, at: 0, seq: 1 }]));
    const seen = h.next('t1');
    await h.record('t1', TaskStatus.Queued);
    await seen;
    expect(h.monitor.latest('o')).toBeUndefined();
  });

  it('stop() quits its own connection only, and stops applying events', async () => {
    h = new Harness();
    await h.monitor.start();
    await h.monitor.start(); // idempotent: one connection
    expect(h.subscribers).toHaveLength(1);
    const sub = h.subscribers[0];
    const quit = jest.spyOn(sub, 'quit');
    const unsubscribe = jest.spyOn(sub, 'unsubscribe');

    await h.monitor.stop();
    expect(h.monitor.running).toBe(false);
    expect(unsubscribe).toHaveBeenCalledWith(h.keys.events);
    expect(quit).toHaveBeenCalledTimes(1);
    expect(await h.redis.ping()).toBe('PONG');

    // A probe on the same channel tells when the event has been delivered.
    const probe = h.factory();
    await probe.subscribe(h.keys.events);
    const delivered = new Promise((resolve) => probe.once('message', resolve));
    await h.record('t1', TaskStatus.Done);
    await delivered;
    await new Promise(setImmediate);
    expect(h.monitor.latest('t1')).toBeUndefined();
    expect(h.logger.messages('info')).toEqual([]);
  });

  it('can be started again after stop, and catches up on followed tasks', async () => {
    h = new Harness({ resyncDebounceMs: 0 });
    await h.monitor.start();
    h.monitor.follow(['t1']);
    await h.monitor.stop();
    await h.record('t1', TaskStatus.Done);
    const caughtUp = h.next('t1', TaskStatus.Done);
    await h.monitor.start();
    expect((await caughtUp).status).toBe('Done');
    expect(h.subscribers).toHaveLength(2);
  });

  it('forgets the least recently changed records beyond maxRecords, but not followed pending ones', async () => {
    h = new Harness({ maxRecords: 2 });
    await h.monitor.start();
    h.monitor.follow(['kept']);
    const last = h.next('c');
    await h.record('kept', TaskStatus.InProgress);
    await h.record('a', TaskStatus.Done);
    await h.record('b', TaskStatus.Done);
    await h.record('c', TaskStatus.Done);
    await last;
    expect(h.monitor.latest('kept')?.status).toBe('InProgress');
    expect(h.monitor.latest('a')).toBeUndefined();
    expect(h.monitor.latest('b')).toBeUndefined();
    expect(h.monitor.latest('c')?.status).toBe('Done');
  });

  it('rejects invalid options', () => {
    h = new Harness();
    expect(() => h.newMonitor({ readChunkSize: 0 })).toThrow(RangeError);
  });

  it('is resolved by tsyringe from the TOKENS registrations (registerMonitor)', async () => {
    h = new Harness();
    const child = registerMonitor(container.createChildContainer());
    child.register(TOKENS.Connection, { useValue: h.redis });
    child.register(TOKENS.QueueConfig, { useValue: h.config });
    child.register(TOKENS.Logger, { useValue: h.logger });
    child.register(TOKENS.MonitorOptions, { useValue: { log: false } });
    const monitor = child.resolve(Monitor);
    expect(monitor).not.toBe(h.monitor);
    expect(child.resolve(Monitor)).toBe(monitor); // one per container
    await monitor.start();
    try {
      const seen = new Promise<StatusRecord>((resolve) => monitor.onStatus('t1', '*', resolve));
      await h.record('t1', TaskStatus.Queued);
      expect((await seen).status).toBe('Queued');
      expect(h.logger.messages('info')).toEqual([]); // options came from TOKENS.MonitorOptions
    } finally {
      await monitor.stop();
    }
  });

  it('is resolved by tsyringe without TOKENS.MonitorOptions (defaults)', async () => {
    h = new Harness();
    const child = registerMonitor(container.createChildContainer());
    child.register(TOKENS.Connection, { useValue: h.redis });
    child.register(TOKENS.QueueConfig, { useValue: h.config });
    child.register(TOKENS.Logger, { useValue: h.logger });
    const monitor = child.resolve(Monitor);
    await monitor.start();
    try {
      const seen = new Promise<StatusRecord>((resolve) => monitor.onStatus('t1', '*', resolve));
      await h.record('t1', TaskStatus.Queued);
      await seen;
      expect(h.logger.messages('info')).toEqual(['[Monitor] Task t1 is Queued']);
    } finally {
      await monitor.stop();
    }
  });
});
