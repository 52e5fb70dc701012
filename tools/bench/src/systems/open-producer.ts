import type { SystemName } from '../names';
import { BeeQueueProducer } from './bee-queue-producer';
import { BullmqProducer } from './bullmq-producer';
import { LeanProducer } from './lean-producer';
import { QUEUE_NAME, type Producer, type RedisTarget } from './producer';
import { TaskqProducer } from './taskq-producer';

/** Opens the producer side of `system` for `queue` (taskq and BullMQ only: the others have one queue), connected and ready. */
export function openProducer(system: SystemName, target: RedisTarget, queue = QUEUE_NAME): Promise<Producer> {
  switch (system) {
    case 'taskq':
      return TaskqProducer.open(target, queue);
    case 'bullmq':
      return BullmqProducer.open(target, queue);
    default:
      if (queue !== QUEUE_NAME) return Promise.reject(new Error(`the bench runs ${system} on its one queue only`));
      return system === 'bee-queue' ? BeeQueueProducer.open(target) : LeanProducer.open(system, target);
  }
}
