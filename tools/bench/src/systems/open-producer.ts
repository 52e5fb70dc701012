import type { SystemName } from '../names';
import { BeeQueueProducer } from './bee-queue-producer';
import { BullmqProducer } from './bullmq-producer';
import { LeanProducer } from './lean-producer';
import type { Producer, RedisTarget } from './producer';
import { TaskqProducer } from './taskq-producer';

/** Opens the producer side of `system`, connected and ready. */
export function openProducer(system: SystemName, target: RedisTarget): Promise<Producer> {
  switch (system) {
    case 'taskq':
      return TaskqProducer.open(target);
    case 'bullmq':
      return BullmqProducer.open(target);
    case 'bee-queue':
      return BeeQueueProducer.open(target);
    default:
      return LeanProducer.open(system, target);
  }
}
