import type { RecordKeys } from '@taskq/recorder';
import { InvalidQueueNameError } from './errors/invalid-queue-name-error';

/**
 * Every Redis key and channel name taskq uses, in one place.
 *
 * All keys of one queue share the hash tag `{<queue>}` so that every Lua
 * script's keys live in one Redis Cluster slot (no CROSSSLOT errors), and
 * every key a script touches is one of these fixed names, passed in KEYS.
 */
export interface QueueKeys extends RecordKeys {
  /** Queue name these keys belong to. */
  readonly queue: string;
  /** The prefix of every key (see queueKeys). */
  readonly prefix: string;
  /** List of task ids waiting to run; enqueue pushes left, fetch pops right. */
  readonly ready: string;
  /**
   * Hash task id -> encoded task: a JSON array `[enqueuedAt, type, payload, options?]`
   * (enqueuedAt is the Redis server time of the enqueue, ms). A task that has
   * only been enqueued has no status record: its stored body stands for it
   * (status Queued, attempt 0, seq 0, at = enqueuedAt); see StatusRecorder.
   */
  readonly tasks: string;
  /**
   * Sorted set of ready tasks that have a priority other than the default
   * (see TaskInput.priority): score `(9 - priority) * 1e13 + order`, so the
   * lowest score runs first — higher levels first, FIFO within a level.
   * Tasks of the default priority are in `ready`.
   */
  readonly prioritized: string;
  /** Hash task id -> priority (0-9), for tasks whose priority is not the default; plus the field ` order`, the FIFO counter of the levels. */
  readonly priorities: string;
  /** Counter of generated task ids (a generated id is its decimal value). */
  readonly ids: string;
  /** Hash task id -> attempts made (fetches that counted), for tasks to run again or failed for good; a held task's count is in its fencing token, a Done task's in its record. */
  readonly attempts: string;
  /** Hash task id -> current status record (JSON), the truth monitors resync from (an enqueued task's record is implied by its body, see `tasks`). */
  readonly status: string;
  /** Counter incremented by every recorded transition; each record carries it. */
  readonly seq: string;
  /** Sorted set consumer id -> last heartbeat (Redis server time, ms). */
  readonly consumers: string;
  /** List of task ids that were rejected (status Failed, reason in the record), newest first, capped. */
  readonly rejected: string;
  /** Sorted set task id -> due time (ms): Delayed and Retrying tasks. */
  readonly delayed: string;
  /**
   * Sorted set task id -> due time (ms): the Retrying tasks of `delayed`, an
   * index kept by the scripts that move tasks in and out of it (fail's retry
   * adds; a fetch's promotion of due tasks, a cancel remove), so that the
   * Retrying tasks can be listed page by page without reading every record.
   */
  readonly retrying: string;
  /** Dead-letter list: ids of tasks that failed their last attempt (status Dead), newest first, capped. */
  readonly dead: string;
  /**
   * Hash task id -> fencing token of the fetch that holds it: `<seq>:<attempt>`, the seq of its
   * InProgress record and the attempt. Plus one field, {@link FENCE_ENCODING_FIELD}, not a task.
   */
  readonly fence: string;
  /** Hash task id -> JSON array of failed attempts: attempt, time, error, trimmed stack. */
  readonly history: string;
  /** Hash task id -> time a cancel was requested while the task was InProgress. */
  readonly cancels: string;
  /**
   * List of the ids of Done tasks in finish order, newest first, for retention
   * (a task's finish time is its final record's `at`). Key `retained`. Data
   * written before the `cancelled` list came may still hold Cancelled ids here.
   */
  readonly finished: string;
  /** List of the ids of Cancelled tasks in the order they were cancelled, newest first, trimmed by retention like `finished`. */
  readonly cancelled: string;
  /** Hash task id -> how often the janitor recovered it from a dead worker. */
  readonly recoveries: string;
  /**
   * Hash task id -> the latest progress its handler reported (JSON
   * `{"pct","done"?,"total"?,"msg"?,"at"}`, see TaskProgress), for running
   * tasks only: every script that takes a task out of its processing list
   * removes its field. Absent while no running task has reported progress.
   */
  readonly progress: string;
  /**
   * Hash task id -> the JSON text of the value its handler returned, stored
   * by the ack that records it Done (in the same script step); a handler that
   * returns undefined stores none. Forgotten with the task's other data
   * (retention, the capped lists); a requeue of a Dead or Failed task clears
   * it. Absent while no task has a result.
   */
  readonly results: string;
  /**
   * The queue's epoch: the Redis server time (µs since 1970) at which the
   * queue's data began, written by the first enqueue or consumer registration
   * and never changed. A client that saw one epoch and later finds another
   * (or none) knows Redis lost the queue's data meanwhile: a restart without
   * persistence, a flush, a failover to a replica that did not have it.
   */
  readonly epoch: string;
  /**
   * Present while the queue is paused: the pause event (JSON `{"event":"paused","at","seq","reason"?}`).
   * A paused queue hands out no task; enqueues go on and running tasks finish.
   */
  readonly paused: string;
  /**
   * Hash of the queue's global limits (see Queue.setLimit): `concurrency` and
   * `rate` (`<max>/<intervalMs>`) for the whole queue; `type:<t>:concurrency`,
   * `type:<t>:rate` and `type:<t>:scope` (the type's scope number, 1, 2, …:
   * its range in `limitStarts` and `parked`) per limited type; plus the field
   * ` parked order`, the FIFO counter of the parked tasks. Absent while no
   * limit is set: then the scripts do no limit work after one EXISTS.
   */
  readonly limits: string;
  /** Hash task id -> type, for the running tasks that hold a slot of their type's concurrency limit. */
  readonly limitHeld: string;
  /** Hash type -> how many running tasks hold a slot of its concurrency limit (what `limitHeld` counts). */
  readonly limitActive: string;
  /**
   * Sorted set of task starts under a rate limit (a sliding-window log):
   * score `scope * 1e13 + start ms` (scope 0: the queue's rate, a type's
   * scope number for its own), member `<scope>:<fencing token>`.
   */
  readonly limitStarts: string;
  /**
   * Sorted set of ready tasks a fetch set aside because their type was at its
   * concurrency or rate limit: score `scope * 1e13 + (9 - priority) * 1e12 + order`,
   * so a type's parked tasks are one range, in priority, then FIFO, order.
   * Status Queued; the next fetch that finds their type with room takes them first.
   */
  readonly parked: string;
  /** Hash schedule name -> its spec (JSON: cron and time zone, or everyMs and anchor; the task). */
  readonly schedules: string;
  /** Sorted set schedule name -> its next tick (ms); janitor passes enqueue the due ones. */
  readonly scheduled: string;
  /**
   * Hash of outcomes per minute: fields `<minute start ms>:done` (acks) and
   * `<minute start ms>:failed` (failed attempts: Retrying, Dead, Failed),
   * counted by the scripts that record them, in the minute of Redis's clock;
   * the janitor deletes the fields of minutes older than an hour. See
   * readThroughput.
   */
  readonly throughput: string;
  /**
   * Hash task id -> `<flow id> <step>`, for the tasks that are steps of a flow
   * (see Flows), written by the enqueue that releases the step and deleted
   * once the step's end was carried into its flow (retention does not forget
   * a step before that). Absent while the queue has no flow step running:
   * the scripts that end tasks then do no flow work (one EXISTS, shared with
   * other rare hashes where they have one).
   */
  readonly flowMembers: string;
  /**
   * List of flow notices, newest first: `<status> <task id> <flow id> <step>`,
   * pushed by the script that records a flow step Done, Dead, Failed or
   * Cancelled, in the same step. The flow's keys are under another hash tag
   * (Redis Cluster: another slot), so a mover (the worker after such an ack,
   * and every janitor pass) carries each notice into the flow with the
   * flow's own script and removes it only after that and the actions it
   * returned (enqueue the next steps, cancel the rest) are done; every one of
   * them is idempotent, so a notice carried twice does no harm.
   */
  readonly flowOutbox: string;
  /**
   * List of the consumers waiting for work: those whose last fetch emptied the
   * ready list while they still had idle sub-workers (fetch pushes one to the
   * tail, once). An enqueue pops as many as it made tasks ready, newest first,
   * and wakes each on its own channel (wakeOf): only they fetch, not every idle pool.
   * A fetch that leaves a consumer without idle sub-workers, its unregister and
   * the janitor's recovery of a dead one take it out.
   */
  readonly waiters: string;
  /**
   * List of hand-off pools (WorkerPool's `handOff`) waiting for work, each
   * consumer once per idle sub-worker: an enqueue pops one entry per new
   * ready task, moves the task to that consumer's processing list (fenced
   * `h:<ms> <consumer>`, still Queued) and publishes it on the consumer's own wake
   * channel as `h <id> <body>`; the pool starts it and claims it with its next
   * fetch (see docs/design/hand-off.md).
   */
  readonly handOffWaiters: string;
  /** Key of the janitor's distributed mutex (redis-semaphore). */
  readonly janitorLock: string;
  /** Pub/sub channel on which every status change is published. */
  readonly events: string;
  /** Pub/sub channel that wakes idle workers when tasks become ready or due times change. */
  readonly wake: string;
  /** Pub/sub channel of cancel requests (message: task id) for the worker holding the task. */
  readonly control: string;
  /**
   * A consumer's own wake channel, `<wake>:<consumer id>`: an enqueue that pops
   * the consumer from the waiters list publishes the count of tasks it made
   * ready there, so that only that consumer's process hears it.
   */
  wakeOf(consumerId: string): string;
  /** Per-consumer processing list: the tasks that consumer holds. */
  processing(consumerId: string): string;
}

export const DEFAULT_KEY_PREFIX = 'taskq';

/**
 * The fence hash's one field that is not a task (its name has a space, which
 * no task id has). The fetch script creates the hash with it; its value is
 * longer than Redis's hash-max-listpack-value (64 bytes), so the hash is a
 * hashtable from the start and stays one, instead of a listpack that every
 * lookup of a task's token would search field by field.
 */
export const FENCE_ENCODING_FIELD = 'fence hash encoding';

const QUEUE_NAME = /^[A-Za-z0-9_.:-]{1,200}$/;


export function assertQueueName(queue: string): void {
  if (!QUEUE_NAME.test(queue)) throw new InvalidQueueNameError(queue);
}

/** Key names for `queue`, under `prefix` (default `taskq`). */
export function queueKeys(queue: string, prefix: string = DEFAULT_KEY_PREFIX): QueueKeys {
  assertQueueName(queue);
  if (/[{}]/.test(prefix)) throw new Error(`key prefix must not contain braces: ${prefix}`);
  const base = `${prefix}:{${queue}}`;
  return {
    queue,
    prefix,
    ready: `${base}:ready`,
    tasks: `${base}:tasks`,
    ids: `${base}:ids`,
    prioritized: `${base}:prioritized`,
    priorities: `${base}:priorities`,
    attempts: `${base}:attempts`,
    status: `${base}:status`,
    seq: `${base}:seq`,
    consumers: `${base}:consumers`,
    rejected: `${base}:rejected`,
    delayed: `${base}:delayed`,
    retrying: `${base}:retrying`,
    dead: `${base}:dead`,
    fence: `${base}:fence`,
    history: `${base}:history`,
    cancels: `${base}:cancels`,
    finished: `${base}:retained`,
    cancelled: `${base}:cancelled`,
    recoveries: `${base}:recoveries`,
    progress: `${base}:progress`,
    results: `${base}:results`,
    epoch: `${base}:epoch`,
    paused: `${base}:paused`,
    limits: `${base}:limits`,
    limitHeld: `${base}:limit-held`,
    limitActive: `${base}:limit-active`,
    limitStarts: `${base}:limit-starts`,
    parked: `${base}:parked`,
    schedules: `${base}:schedules`,
    scheduled: `${base}:scheduled`,
    throughput: `${base}:throughput`,
    flowMembers: `${base}:flow-members`,
    flowOutbox: `${base}:flow-outbox`,
    waiters: `${base}:waiters`,
    handOffWaiters: `${base}:waiters:h`,
    janitorLock: `${base}:janitor`,
    events: `${base}:events`,
    wake: `${base}:wake`,
    control: `${base}:control`,
    wakeOf: (consumerId: string) => `${base}:wake:${consumerId}`,
    processing: (consumerId: string) => `${base}:processing:${consumerId}`,
  };
}
