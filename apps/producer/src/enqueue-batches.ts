import type { Queue, TaskInput } from '@taskq/queue';
import { EnqueueInterruptedError } from './enqueue-interrupted-error';

/** Tasks per enqueueMany call of a run: ten script calls of 1000, pipelined. */
export const DEFAULT_BATCH_SIZE = 10_000;

/** What enqueueInBatches needs of a Queue. */
export type BatchQueue = Pick<Queue, 'enqueueMany'>;

export interface EnqueueBatchesOptions {
  /** How many inputs `inputs` yields (for messages). */
  readonly total: number;
  /** Inputs taken from the iterator per enqueueMany call. Default 10,000. */
  readonly batchSize?: number;
  /** Called after each batch with the number of tasks enqueued so far. */
  readonly onProgress?: (enqueued: number) => void;
  /** Awaited after each batch with the number of tasks enqueued so far; a rejection ends the run with its error. */
  readonly afterBatch?: (enqueued: number) => Promise<void>;
  /** Appended to the error of a failed batch: how to enqueue the rest. */
  readonly advice?: string;
}

/**
 * Enqueues what `inputs` yields, one batch at a time: it takes `batchSize`
 * inputs from the iterator, waits until Redis has them, then takes the next,
 * so memory holds one batch whatever the count. Returns how many were
 * enqueued. A failing batch rejects with an EnqueueInterruptedError that says
 * how many tasks went in before it (and how many of that batch may have).
 */
export async function enqueueInBatches(queue: BatchQueue, inputs: Iterable<TaskInput>, o: EnqueueBatchesOptions): Promise<number> {
  const size = o.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`batchSize must be a whole number >= 1, got ${size}`);
  let enqueued = 0;
  let batch: TaskInput[] = [];
  const send = async (): Promise<void> => {
    try {
      await queue.enqueueMany(batch);
    } catch (err) {
      throw new EnqueueInterruptedError(enqueued, batch.length, o.total, o.advice ?? '', err);
    }
    enqueued += batch.length;
    // a new array, so the sent batch (and everything enqueueMany built from it) can go
    batch = [];
    o.onProgress?.(enqueued);
    await o.afterBatch?.(enqueued);
  };
  for (const input of inputs) {
    batch.push(input);
    if (batch.length >= size) await send();
  }
  if (batch.length > 0) await send();
  return enqueued;
}
