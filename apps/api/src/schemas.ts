import { Type, type Static } from '@sinclair/typebox';
import { LISTABLE_STATUSES, MAX_FLOW_NAME_LENGTH, MAX_FLOW_STEPS, MAX_LIST_LIMIT, type FlowPolicy, type FlowStatus, type FlowStepStatus, type ListableStatus } from '@taskq/queue';

/**
 * The API's request and response schemas, declared once: fastify validates
 * requests (and serializes responses) with them, and /openapi.json is built
 * from the same objects.
 */

const QUEUE_NAME = '^[A-Za-z0-9_.:-]{1,200}$';

export const QueueParams = Type.Object({ queue: Type.String({ pattern: QUEUE_NAME, description: 'queue name' }) });
export type QueueParams = Static<typeof QueueParams>;

export const TaskParams = Type.Object({
  queue: Type.String({ pattern: QUEUE_NAME, description: 'queue name' }),
  id: Type.String({ minLength: 1, maxLength: 256, description: 'task id' }),
});
export type TaskParams = Static<typeof TaskParams>;

const Backoff = Type.Union(
  [
    Type.Object({ type: Type.Literal('exponential'), delayMs: Type.Optional(Type.Number({ minimum: 0 })), maxDelayMs: Type.Optional(Type.Number({ minimum: 0 })), jitter: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
    Type.Object({ type: Type.Literal('fixed'), delayMs: Type.Number({ minimum: 0 }) }, { additionalProperties: false }),
    Type.Object({ type: Type.Literal('custom'), name: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
  ],
  { description: 'wait between attempts (default: exponential from 1 s, with jitter, capped at 1 h)' },
);

/** The fields of a task input that a flow's steps have too. */
const taskFields = {
  type: Type.String({ minLength: 1, maxLength: 200, description: 'selects the handler' }),
  payload: Type.Optional(Type.Unknown({ description: 'handler input: plain JSON (default null)' })),
  priority: Type.Optional(Type.Integer({ minimum: 0, maximum: 9, description: '0-9, default 5: a higher priority runs first' })),
  delayMs: Type.Optional(Type.Integer({ minimum: 0, description: 'run no earlier than this many ms from now' })),
  maxAttempts: Type.Optional(Type.Integer({ minimum: 1, description: 'executions allowed before the task is Dead (default 3)' })),
  backoff: Type.Optional(Backoff),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 1, description: 'per-attempt time limit, ms' })),
};

export const TaskBody = Type.Object(
  {
    ...taskFields,
    id: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: "the caller's id: enqueueing it again returns the existing task (idempotent)" })),
    runAt: Type.Optional(Type.Integer({ minimum: 0, description: 'run no earlier than this time (ms since 1970); exclusive with delayMs' })),
  },
  { additionalProperties: false },
);
export type TaskBody = Static<typeof TaskBody>;

/** Most tasks one POST may carry. */
export const MAX_TASKS_PER_REQUEST = 1000;

/**
 * One task, or an array of them. Written as if/then/else, not anyOf, so a
 * validation error names the field of the branch the body is (an anyOf
 * reports the first branch's complaint: "must be object" for a bad array).
 */
export const EnqueueBody = Type.Unsafe<TaskBody | TaskBody[]>({
  description: `one task, or an array of 1 to ${MAX_TASKS_PER_REQUEST}`,
  if: { type: 'array' },
  then: Type.Array(TaskBody, { minItems: 1, maxItems: MAX_TASKS_PER_REQUEST }),
  else: TaskBody,
});
export type EnqueueBody = Static<typeof EnqueueBody>;

const Status = Type.Union(
  ['Queued', 'Delayed', 'InProgress', 'Retrying', 'Done', 'Failed', 'Dead', 'Cancelled'].map((s) => Type.Literal(s)),
  { description: 'the task status' },
);

export const EnqueuedTask = Type.Object({
  id: Type.String(),
  queue: Type.String(),
  type: Type.String(),
  enqueuedAt: Type.Number({ description: 'Redis server time of the enqueue, ms since 1970' }),
  priority: Type.Integer(),
});

export const EnqueueReply = Type.Object({ tasks: Type.Array(EnqueuedTask) });

const Attempt = Type.Object({
  attempt: Type.Integer(),
  at: Type.Number(),
  worker: Type.String(),
  error: Type.String(),
  stack: Type.Optional(Type.String()),
});

export const TaskReply = Type.Object({
  id: Type.String(),
  queue: Type.String(),
  type: Type.Optional(Type.String({ description: 'absent when the task body was forgotten (retention) but its record kept' })),
  payload: Type.Optional(Type.Unknown()),
  status: Status,
  attempt: Type.Integer({ description: 'executions so far' }),
  at: Type.Number({ description: 'time of the last transition, ms since 1970' }),
  worker: Type.Optional(Type.String()),
  reason: Type.Optional(Type.String({ description: 'why it has this status (failure, recovery, cancel)' })),
  runAt: Type.Optional(Type.Number()),
  enqueuedAt: Type.Optional(Type.Number()),
  maxAttempts: Type.Optional(Type.Integer()),
  priority: Type.Optional(Type.Integer()),
  timeoutMs: Type.Optional(Type.Number()),
  history: Type.Array(Attempt, { description: 'failed attempts, oldest first' }),
  lastError: Type.Optional(Type.String()),
  progress: Type.Optional(
    Type.Object(
      {
        pct: Type.Number({ description: 'percent done, 0-100' }),
        done: Type.Optional(Type.Number()),
        total: Type.Optional(Type.Number()),
        msg: Type.Optional(Type.String()),
        at: Type.Number({ description: 'when Redis took it, ms since 1970' }),
      },
      { description: "the running attempt's latest progress report (ctx.progress), while it runs" },
    ),
  ),
  result: Type.Optional(
    Type.Unknown({ description: "the value its handler returned (any JSON), stored with its Done record; absent when it returned none, the task is not Done, or retention forgot it" }),
  ),
});

export const CancelReply = Type.Object({
  id: Type.String(),
  outcome: Type.Union([Type.Literal('cancelled'), Type.Literal('final'), Type.Literal('running')]),
  status: Type.Optional(Status),
  cancelled: Type.Boolean(),
});

export const CancelQuery = Type.Object({
  waitMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000, description: "how long to wait for a running task's worker to confirm (default 5000)" })),
});

export type CancelQuery = Static<typeof CancelQuery>;

export const RetryReply = Type.Object({ id: Type.String(), status: Status });

export const RequeueBody = Type.Union(
  [
    Type.Object({ ids: Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { minItems: 1, maxItems: 10_000 }) }, { additionalProperties: false }),
    Type.Object({ all: Type.Literal(true) }, { additionalProperties: false }),
  ],
  { description: 'the dead tasks to run again: `ids`, or `all: true`' },
);
export type RequeueBody = Static<typeof RequeueBody>;

export const RequeueReply = Type.Object({ requeued: Type.Integer(), ids: Type.Optional(Type.Array(Type.String())) });

/** Minutes of throughput GET /queues shows per queue. */
export const THROUGHPUT_MINUTES = 15;

export const QueueSummary = Type.Object({
  queue: Type.String(),
  ready: Type.Integer(),
  delayed: Type.Integer({ description: 'Delayed and Retrying tasks (the delayed set)' }),
  retrying: Type.Integer({ description: 'of those, the Retrying ones' }),
  cancelled: Type.Integer({ description: 'Cancelled tasks still kept (retention), among doneKept' }),
  inProgress: Type.Integer(),
  dead: Type.Integer(),
  failed: Type.Integer(),
  doneKept: Type.Integer({ description: 'Done/Cancelled tasks still kept (retention)' }),
  paused: Type.Boolean(),
  workers: Type.Integer({ description: 'consumers registered' }),
  oldestReadyAgeMs: Type.Number({ description: 'age of the oldest ready task, 0 when none' }),
  throughput: Type.Array(
    Type.Object({
      at: Type.Number({ description: 'start of the minute, ms since 1970 (Redis time)' }),
      done: Type.Integer({ description: 'tasks Done in that minute' }),
      failed: Type.Integer({ description: 'failed attempts in that minute (recorded Retrying, Dead or Failed)' }),
    }),
    { description: `the last ${THROUGHPUT_MINUTES} minutes, oldest first; the last is the current minute, still counting` },
  ),
  workerList: Type.Array(
    Type.Object({
      id: Type.String({ description: 'consumer id (one per worker process and queue)' }),
      lastHeartbeatAt: Type.Number({ description: 'its last heartbeat, ms since 1970 (Redis time)' }),
    }),
    { description: 'the registered consumers, the most recently heard from first' },
  ),
});

export const QueuesReply = Type.Object({ queues: Type.Array(QueueSummary) });

export const WhoamiReply = Type.Object({
  role: Type.Union([Type.Literal('admin'), Type.Literal('read')]),
  auth: Type.Boolean({ description: 'whether the API checks tokens (false: every request is allowed, on 127.0.0.1 only)' }),
});

export const TasksQuery = Type.Object(
  {
    // an enum, not a union of literals: a bad value is refused with one message (not one per literal)
    status: Type.Unsafe<ListableStatus>({ type: 'string', enum: [...LISTABLE_STATUSES], description: 'the status listed' }),
    cursor: Type.Optional(Type.String({ maxLength: 2048, description: 'the nextCursor of the page before (opaque); none for the first page' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIST_LIMIT, description: 'most tasks in the page (default 50)' })),
  },
  { additionalProperties: false },
);
export type TasksQuery = Static<typeof TasksQuery>;

export const ListedTask = Type.Object({
  id: Type.String(),
  status: Status,
  attempt: Type.Integer({ description: 'executions so far' }),
  at: Type.Number({ description: 'time of the last transition, ms since 1970' }),
  type: Type.Optional(Type.String({ description: 'absent when the task body was forgotten but its record kept' })),
  enqueuedAt: Type.Optional(Type.Number()),
  priority: Type.Optional(Type.Integer()),
  worker: Type.Optional(Type.String()),
  reason: Type.Optional(Type.String()),
  runAt: Type.Optional(Type.Number({ description: 'Delayed, Retrying: when it is due, ms since 1970' })),
  payload: Type.Optional(Type.Unknown()),
});

export const TaskListReply = Type.Object({
  tasks: Type.Array(ListedTask),
  nextCursor: Type.Optional(Type.String({ description: 'give it back as cursor for the next page; absent when the list ended' })),
});

export const ErrorReply = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String(),
  message: Type.String(),
  field: Type.Optional(Type.String({ description: 'the request field at fault, for 400' })),
});

export const EventsQuery = Type.Object({
  queue: Type.Optional(
    Type.Array(Type.String({ pattern: QUEUE_NAME }), {
      minItems: 1,
      maxItems: 1000,
      description: 'a queue to follow (repeat for several: `?queue=a&queue=b`); none: every queue under the prefix, those created later too',
    }),
  ),
  flows: Type.Optional(Type.Boolean({ description: 'true: the flow events too (`event: flow`, a FlowEvent; no id, at most once: a client that missed some re-reads GET /flows/{id})' })),
});
export type EventsQuery = Static<typeof EventsQuery>;

export const EventsHeaders = Type.Object({
  'last-event-id': Type.Optional(
    Type.String({
      maxLength: 65_536,
      description: 'the id of the last event the client got (EventSource sends it when it reconnects): the stream resumes from there, missing nothing',
    }),
  ),
});
export type EventsHeaders = Static<typeof EventsHeaders>;

/** The event stream (documented: its events are not JSON Schema's to describe). */
export const EventsStream = Type.Unsafe<string>({
  type: 'string',
  contentMediaType: 'text/event-stream',
  description:
    'Server-Sent Events: `status` (a status record with its `queue`), `queue` (paused/resumed), `progress` (a batch of progress updates), `flow` (with `?flows=true`: the status and counts of a flow after a change), `reset` (a queue lost its data: replayed from its start), `ready` (the replay, if any, is over; live from here), `error`; a `: keepalive` comment every 15 s. Every status, queue, reset and ready event has an id, the stream position in every queue it follows: send it back as Last-Event-ID to resume.',
});

// ---- flows (see the README's "Flows"): the general DAG form, which covers chain, group and chord

const flowName = (description: string) => Type.String({ minLength: 1, maxLength: MAX_FLOW_NAME_LENGTH, description });

export const FlowStepBody = Type.Object(
  {
    name: flowName('unique in the flow (task id rules, no braces); its task id is `<flow id>:<name>`'),
    queue: Type.Optional(Type.String({ pattern: QUEUE_NAME, description: "the queue its task is enqueued in (default: the body's `queue`)" })),
    ...taskFields,
    delayMs: Type.Optional(Type.Integer({ minimum: 0, description: 'run no earlier than this many ms after it is released (all it waits for ended)' })),
    dependsOn: Type.Optional(Type.Array(flowName('a step name'), { maxItems: MAX_FLOW_STEPS, description: 'the steps it waits for (their results are its task.flow.inputs)' })),
  },
  { additionalProperties: false },
);
export type FlowStepBody = Static<typeof FlowStepBody>;

export const FlowBody = Type.Object(
  {
    id: Type.Optional(flowName("the flow's id (task id rules, no braces): adding an id that exists returns that flow (200, created false); default generated")),
    policy: Type.Optional(
      Type.Unsafe<FlowPolicy>({ type: 'string', enum: ['failFast', 'continue'], description: 'failFast (default): a step not Done cancels the rest; continue: the others still run' }),
    ),
    retentionMs: Type.Optional(Type.Integer({ minimum: 1, description: 'how long the flow is kept after it ended, ms (default 24 h)' })),
    queue: Type.Optional(Type.String({ pattern: QUEUE_NAME, description: 'the queue of the steps that name none (default `default`)' })),
    steps: Type.Array(FlowStepBody, { minItems: 1, maxItems: MAX_FLOW_STEPS, description: 'the steps, each naming the steps it waits for (`dependsOn`)' }),
  },
  { additionalProperties: false },
);
export type FlowBody = Static<typeof FlowBody>;

export const FlowParams = Type.Object({ id: flowName('flow id') });
export type FlowParams = Static<typeof FlowParams>;

/** Most flows GET /flows gives at a time. */
export const MAX_FLOW_LIST_LIMIT = 100;

export const FlowsQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_FLOW_LIST_LIMIT, description: 'most flows in the page (default 50)' })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, description: 'flows skipped, newest first (default 0): the nextOffset of the page before' })),
  },
  { additionalProperties: false },
);
export type FlowsQuery = Static<typeof FlowsQuery>;

const FlowStatusSchema = Type.Unsafe<FlowStatus>({
  type: 'string',
  enum: ['FlowRunning', 'FlowFailing', 'FlowCancelling', 'FlowDone', 'FlowFailed', 'FlowCancelled'],
  description: 'running, ending (FlowFailing, FlowCancelling: waiting for its running steps to stop), or ended (FlowDone, FlowFailed, FlowCancelled)',
});
const FlowStepStatusSchema = Type.Unsafe<FlowStepStatus>({
  type: 'string',
  enum: ['Waiting', 'Released', 'Done', 'Dead', 'Failed', 'Cancelled'],
  description: 'Waiting for its deps, Released (its task is in its queue: see `task`), or how its task ended',
});
const FlowPolicySchema = Type.Unsafe<FlowPolicy>({ type: 'string', enum: ['failFast', 'continue'] });

export const AddedFlowReply = Type.Object({
  id: Type.String(),
  created: Type.Boolean({ description: 'false: a flow of this id existed (it is returned as it is)' }),
  steps: Type.Array(Type.Object({ name: Type.String(), queue: Type.String(), taskId: Type.String(), dependsOn: Type.Array(Type.String()) })),
});

const flowCounts = {
  id: Type.String(),
  status: FlowStatusSchema,
  policy: FlowPolicySchema,
  createdAt: Type.Number({ description: 'ms since 1970 (Redis time)' }),
  endedAt: Type.Optional(Type.Number({ description: 'when it ended, ms since 1970' })),
  total: Type.Integer({ description: 'steps' }),
  done: Type.Integer({ description: 'steps Done' }),
  failed: Type.Integer({ description: 'steps Dead or Failed' }),
  cancelled: Type.Integer({ description: 'steps Cancelled' }),
  reason: Type.Optional(Type.String({ description: 'why it is failing, failed or cancelled' })),
};

export const FlowSummary = Type.Object(flowCounts);

export const FlowListReply = Type.Object({
  flows: Type.Array(FlowSummary, { description: 'newest first' }),
  nextOffset: Type.Optional(Type.Integer({ description: 'give it back as offset for the next page; absent when the list ended' })),
});

export const FlowReply = Type.Object({
  ...flowCounts,
  seq: Type.Integer({ description: "the flow's event count" }),
  at: Type.Number({ description: 'time of its last event, ms since 1970' }),
  steps: Type.Array(
    Type.Object({
      name: Type.String(),
      queue: Type.String(),
      taskId: Type.String({ description: '`<flow id>:<step>`: GET /tasks/{queue}/{taskId} shows the task' }),
      type: Type.String(),
      dependsOn: Type.Array(Type.String()),
      status: FlowStepStatusSchema,
      result: Type.Optional(Type.Unknown({ description: "a Done step's result (any JSON; absent when its handler returned none)" })),
      error: Type.Optional(Type.String({ description: 'why it did not end Done' })),
      task: Type.Optional(
        Type.Object(
          {
            id: Type.String(),
            status: Status,
            attempt: Type.Integer(),
            at: Type.Number(),
            seq: Type.Integer(),
            worker: Type.Optional(Type.String()),
            reason: Type.Optional(Type.String()),
            runAt: Type.Optional(Type.Number()),
          },
          { description: "a Released step's task status record in its queue" },
        ),
      ),
    }),
  ),
});

export const FlowCancelReply = Type.Object({
  id: Type.String(),
  status: FlowStatusSchema,
  cancelled: Type.Boolean({ description: 'whether the flow is cancelled (FlowCancelling or FlowCancelled); false for a flow that had ended otherwise' }),
});
