import { payloads } from '../payload';
import { SETUP_CHUNK } from '../plan';
import type { Producer } from '../systems/producer';
import { LostTasksError } from './context';

/** Queues `n` tasks (untimed) through the bulk API in chunks, and checks that all are queued. */
export async function prepareQueue(producer: Producer, n: number): Promise<void> {
  for (let i = 0; i < n; i += SETUP_CHUNK) await producer.enqueueBulk(payloads(Math.min(SETUP_CHUNK, n - i), i));
  const queued = await producer.queued();
  if (queued !== n) throw new LostTasksError(`${producer.system}: ${queued} of ${n} task(s) queued after enqueueing`);
}
