import type { StatusRecord, TaskStatus } from '@taskq/recorder';
import { TasksLostError, type DataLoss } from '@taskq/queue';
import { CompletionTracker } from './completion-tracker';
import { waitUntilFinal, type StatusReader } from './wait-until-final';
import { WaitTimeoutError } from './wait-timeout-error';

const record = (id: string, status: TaskStatus): StatusRecord => ({ id, status, attempt: 1, at: 1, seq: 1 });

const LOSS: DataLoss = { queue: 'q', before: '1', after: '2', reason: "Redis lost queue q's data: (test)" };

/** Recorded statuses the wait can read; counts the reads and the data checks. `loss`: what checkData reports (once). */
function recorded(statuses: Record<string, TaskStatus>, loss?: DataLoss) {
  const reads: string[][] = [];
  let checks = 0;
  let unreported = loss;
  const reader: StatusReader = {
    statuses: (ids) => {
      reads.push([...ids]);
      return Promise.resolve(new Map(ids.map((id) => [id, statuses[id] ? record(id, statuses[id]) : undefined])));
    },
    checkData: () => {
      checks++;
      const found = unreported;
      unreported = undefined;
      return Promise.resolve(found);
    },
  };
  return { reader, reads, checks: () => checks };
}

describe('waitUntilFinal', () => {
  it('an abort stops a long quiet wait at once with the signal\'s reason, no status read; one aborted before it starts too', async () => {
    const t = new CompletionTracker('r', 2);
    const { reader, reads } = recorded({});
    const stop = new AbortController();
    const waiting = waitUntilFinal(t, reader, { timeoutMs: 0, quietMs: 600_000, signal: stop.signal });
    t.mark('r1', 'Done');
    stop.abort('SIGINT');
    await expect(waiting).rejects.toBe('SIGINT');
    expect(reads).toEqual([]);
    expect(t.pending).toBe(1);
    await expect(waitUntilFinal(t, reader, { timeoutMs: 0, quietMs: 600_000, signal: stop.signal })).rejects.toBe('SIGINT');
  });

  it('resolves as soon as the live events have made every task final, without reading the statuses', async () => {
    const t = new CompletionTracker('r', 3);
    const { reader, reads } = recorded({});
    const waiting = waitUntilFinal(t, reader, { timeoutMs: 0, quietMs: 60_000 });
    for (const id of ['r1', 'r2', 'r3']) t.mark(id, 'Done');
    await waiting;
    expect(reads).toEqual([]);
  });

  it('reads the recorded statuses of the pending tasks after a quiet spell: finds tasks final before the run and events pub/sub lost', async () => {
    const t = new CompletionTracker('r', 4);
    t.mark('r1', 'Done');
    const { reader, reads } = recorded({ r1: 'Done', r2: 'Dead', r3: 'Done', r4: 'Cancelled' });
    await waitUntilFinal(t, reader, { timeoutMs: 0, quietMs: 5, chunkSize: 2 });
    expect(reads).toEqual([['r2', 'r3'], ['r4']]);
    expect(t.counts()).toEqual({ Done: 2, Failed: 0, Dead: 1, Cancelled: 1 });
  });

  it('counts a task whose record is gone (forgotten by retention after its events were lost) as Forgotten instead of waiting for it forever', async () => {
    const t = new CompletionTracker('r', 3);
    const { reader, checks } = recorded({ r1: 'Done', r3: 'Dead' });
    await waitUntilFinal(t, reader, { timeoutMs: 0, quietMs: 5 });
    expect(checks()).toBe(1); // Redis still has the queue's data: the record was forgotten, not lost
    expect(t.forgotten).toBe(1);
    expect(t.counts()).toEqual({ Done: 1, Failed: 0, Dead: 1, Cancelled: 0, Forgotten: 1 });
  });

  it('gives up after timeoutMs, saying how many tasks are pending and naming a few', async () => {
    const t = new CompletionTracker('r', 8);
    t.mark('r1', 'Done');
    const { reader, reads } = recorded({ r2: 'Queued', r3: 'InProgress', r4: 'Retrying', r5: 'Queued', r6: 'Queued', r7: 'Delayed', r8: 'Queued' });
    const error: unknown = await waitUntilFinal(t, reader, { timeoutMs: 300, quietMs: 5, maxQuietMs: 40 }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect((error as Error).message).toBe('timed out after 300 ms: 7 of 8 tasks still pending (r2, r3, r4, r5, r6, …)');
    // nothing moved: the re-reads backed off (after 5, 10, 20, 40, 40, … ms quiet), about 10 in 300 ms, not 60
    expect(reads.length).toBeGreaterThanOrEqual(1);
    expect(reads.length).toBeLessThanOrEqual(12);
  });

  it('fails with TasksLostError when records are gone because Redis lost the queue data: counts every pending task without a record, names a few', async () => {
    const t = new CompletionTracker('r', 5);
    const { reader, checks } = recorded({ r2: 'Done' }, LOSS);
    const error: unknown = await waitUntilFinal(t, reader, { timeoutMs: 0, quietMs: 5, chunkSize: 2 }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(TasksLostError);
    expect(error).toMatchObject({ code: 'TASKQ_TASKS_LOST', count: 4, taskIds: ['r1', 'r3', 'r4', 'r5'], loss: LOSS });
    expect((error as Error).message).toBe(
      "4 task(s) of queue q are unknown to Redis (r1, r3, r4, r5): Redis lost queue q's data: (test). They will not run and their outcome will not be recorded; enqueue them again",
    );
    expect(checks()).toBe(1);
    expect(t.forgotten).toBe(0);
  });

  it('re-reads at once when told Redis may have lost the data (the Monitor found it), not after the quiet spell', async () => {
    const t = new CompletionTracker('r', 2);
    const { reader } = recorded({}, LOSS);
    let suspect: () => void = () => undefined;
    let removed = false;
    const waiting = waitUntilFinal(t, reader, {
      timeoutMs: 0,
      quietMs: 600_000,
      onSuspectLoss: (cb) => {
        suspect = cb;
        return () => {
          removed = true;
        };
      },
    }).catch((err: unknown) => err);
    suspect();
    expect(await waiting).toBeInstanceOf(TasksLostError);
    expect(removed).toBe(true);
  });
});
