import type { QueueKeys } from './keys';

/** A key a script can be given: a field of QueueKeys that is a key name, or the processing list of a consumer. */
export type ScriptKey = Exclude<keyof QueueKeys, 'queue' | 'prefix' | 'processing' | 'events' | 'wake' | 'wakeOf' | 'control' | 'janitorLock'> | 'processing';

/**
 * The KEYS of every script (the transitions, and list-page, which only reads), in order: the one typed place they are
 * built from. Each script's header (`-- KEYS[n] <name>: …`) lists the same
 * names; script-keys.test.ts checks that they agree.
 */
export const SCRIPT_KEYS = {
  enqueue: ['ready', 'tasks', 'status', 'seq', 'delayed', 'ids', 'epoch', 'prioritized', 'priorities', 'flowMembers', 'waiters', 'handOffWaiters', 'paused', 'limits', 'fence'],
  fetch: ['ready', 'processing', 'tasks', 'attempts', 'status', 'seq', 'consumers', 'delayed', 'fence', 'cancels', 'finished', 'recoveries', 'paused', 'prioritized', 'priorities', 'limits', 'limitHeld', 'limitActive', 'limitStarts', 'parked', 'progress', 'retrying', 'throughput', 'results', 'flowMembers', 'flowOutbox', 'waiters', 'handOffWaiters', 'cancelled'],
  fail: ['processing', 'attempts', 'status', 'seq', 'fence', 'cancels', 'delayed', 'dead', 'rejected', 'cancelled', 'history', 'tasks', 'recoveries', 'priorities', 'limits', 'limitHeld', 'limitActive', 'parked', 'progress', 'retrying', 'throughput', 'results', 'flowMembers', 'flowOutbox'],
  release: ['processing', 'ready', 'attempts', 'status', 'seq', 'fence', 'prioritized', 'priorities', 'limits', 'limitHeld', 'limitActive', 'parked', 'progress'],
  reconcile: ['processing', 'ready', 'attempts', 'status', 'seq', 'fence', 'prioritized', 'priorities', 'limits', 'limitHeld', 'limitActive', 'parked', 'progress'],
  recover: ['processing', 'ready', 'consumers', 'attempts', 'status', 'seq', 'fence', 'cancels', 'cancelled', 'recoveries', 'dead', 'tasks', 'history', 'prioritized', 'priorities', 'limits', 'limitHeld', 'limitActive', 'parked', 'progress', 'throughput', 'results', 'flowMembers', 'flowOutbox', 'waiters', 'handOffWaiters'],
  heartbeat: ['consumers', 'processing', 'cancels', 'epoch'],
  staleConsumers: ['consumers'],
  cancel: ['ready', 'delayed', 'status', 'seq', 'cancels', 'cancelled', 'attempts', 'tasks', 'prioritized', 'parked', 'retrying', 'flowMembers', 'flowOutbox', 'fence'],
  requeueDead: ['dead', 'ready', 'attempts', 'status', 'seq', 'tasks', 'recoveries', 'prioritized', 'priorities', 'results'],
  requeueFailed: ['rejected', 'ready', 'attempts', 'status', 'seq', 'tasks', 'recoveries', 'prioritized', 'priorities', 'results'],
  pause: ['paused', 'seq'],
  resume: ['paused', 'seq'],
  limitSet: ['limits', 'limitHeld', 'limitActive', 'limitStarts', 'parked', 'ready', 'prioritized', 'priorities'],
  limitsRepair: ['limits', 'limitHeld', 'limitActive', 'limitStarts', 'parked', 'fence', 'ready', 'prioritized', 'priorities'],
  scheduleSet: ['schedules', 'scheduled'],
  scheduleAdvance: ['schedules', 'scheduled'],
  trim: ['finished', 'tasks', 'attempts', 'status', 'history', 'fence', 'cancels', 'recoveries', 'priorities', 'progress', 'cancelled', 'results', 'flowMembers'],
  progress: ['fence', 'progress'],
  listPage: ['finished', 'cancelled', 'dead', 'rejected', 'delayed', 'retrying', 'prioritized', 'ready', 'parked', 'status', 'tasks'],
  throughputTrim: ['throughput'],
} as const satisfies Record<string, readonly ScriptKey[]>;

export type ScriptName = keyof typeof SCRIPT_KEYS;

/**
 * The KEYS array of `script` for the queue's `keys`; `consumerId` names the
 * processing list for the scripts that take one.
 */
export function scriptKeys(script: ScriptName, keys: QueueKeys, consumerId?: string): string[] {
  return SCRIPT_KEYS[script].map((name: ScriptKey) => {
    if (name !== 'processing') return keys[name];
    if (consumerId === undefined) throw new Error(`script ${script} needs a consumer id for its processing list`);
    return keys.processing(consumerId);
  });
}
