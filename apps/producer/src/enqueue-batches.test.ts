import type { TaskInput } from '@taskq/queue';
import { enqueueInBatches, type BatchQueue } from './enqueue-batches';
import { EnqueueInterruptedError } from './enqueue-interrupted-error';
import { sleepTasks } from './sleep-tasks';

/** Counts the inputs a generator has made, so a test can see how far ahead of Redis the producer is. */
function counted(inputs: Iterable<TaskInput>): { inputs: Iterable<TaskInput>; made: () => number } {
  let made = 0;
  return {
    inputs: (function* () {
      for (const input of inputs) {
        made += 1;
        yield input;
      }
    })(),
    made: () => made,
  };
}

/** A queue that records each batch and what had been made when it arrived; `failAt` makes that call reject. */
function recordingQueue(made: () => number, failAt?: number) {
  const calls: Array<{ size: number; madeBefore: number; firstId: string | undefined }> = [];
  let inRedis = 0;
  const queue: BatchQueue = {
    enqueueMany: (async (batch: readonly TaskInput[]) => {
      calls.push({ size: batch.length, madeBefore: made() - inRedis, firstId: batch[0]?.id });
      if (calls.length === failAt) throw new Error('ECONNRESET');
      await Promise.resolve();
      inRedis += batch.length;
      return [];
    }),
  };
  return { queue, calls };
}

const run = { count: 25, idPrefix: 't_', minMs: 1, maxMs: 2, failRate: 0, maxAttempts: 3, retryDelayMs: 10 };

describe('enqueueInBatches', () => {
  it('takes one batch from the generator, sends it, and only then makes the next: never more than one batch in memory', async () => {
    const source = counted(sleepTasks({ ...run, count: 25 }));
    const { queue, calls } = recordingQueue(source.made);
    const progress: number[] = [];
    const n = await enqueueInBatches(queue, source.inputs, { total: 25, batchSize: 10, onProgress: (k) => progress.push(k) });
    expect(n).toBe(25);
    // each call saw exactly its own batch made and not yet in Redis: the generator was never further ahead
    expect(calls).toEqual([
      { size: 10, madeBefore: 10, firstId: 't_1' },
      { size: 10, madeBefore: 10, firstId: 't_11' },
      { size: 5, madeBefore: 5, firstId: 't_21' },
    ]);
    expect(progress).toEqual([10, 20, 25]);
  });

  it('holds one batch of a million-task run, not the run: the generator is at most one batch ahead of Redis', async () => {
    const source = counted(sleepTasks({ ...run, count: 1_000_000 }));
    const { queue, calls } = recordingQueue(source.made);
    expect(await enqueueInBatches(queue, source.inputs, { total: 1_000_000 })).toBe(1_000_000);
    expect(calls).toHaveLength(100);
    expect(Math.max(...calls.map((c) => c.madeBefore))).toBe(10_000);
  });

  it('says how many tasks went in when a batch fails, how many may have, and how to add the rest; makes no more tasks', async () => {
    const source = counted(sleepTasks({ ...run, count: 25 }));
    const { queue, calls } = recordingQueue(source.made, 2);
    const error: unknown = await enqueueInBatches(queue, source.inputs, {
      total: 25,
      batchSize: 10,
      advice: 'Run it again with --id-prefix t_',
    }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(EnqueueInterruptedError);
    expect(error).toMatchObject({ code: 'TASKQ_ENQUEUE_INTERRUPTED', enqueued: 10, uncertain: 10, total: 25 });
    expect((error as Error).message).toBe(
      'enqueue failed after 10 of 25 task(s) were enqueued, and of the next 10 some may be: ECONNRESET. Run it again with --id-prefix t_',
    );
    expect(((error as Error).cause as Error).message).toBe('ECONNRESET');
    expect(calls).toHaveLength(2);
    expect(source.made()).toBe(20);
  });

  it('refuses a batch size that is not a whole number >= 1', async () => {
    const { queue } = recordingQueue(() => 0);
    await expect(enqueueInBatches(queue, [], { total: 0, batchSize: 0 })).rejects.toThrow('batchSize must be a whole number >= 1, got 0');
  });
});

describe('sleepTasks', () => {
  it('makes ids <prefix>1..<prefix>N with payloads in the asked range, lazily', () => {
    const tasks = sleepTasks({ ...run, count: 3, minMs: 5, maxMs: 7, failRate: 1, maxAttempts: 2 });
    const first = tasks.next().value as TaskInput;
    expect(first).toMatchObject({ id: 't_1', type: 'sleep', maxAttempts: 2, backoff: { type: 'fixed', delayMs: 10 } });
    const payload = first.payload as { ms: number; failAttempts: number };
    expect(payload.ms).toBeGreaterThanOrEqual(5);
    expect(payload.ms).toBeLessThanOrEqual(7);
    expect([1, 2]).toContain(payload.failAttempts);
    expect([...tasks].map((t) => t.id)).toEqual(['t_2', 't_3']);
  });
});
