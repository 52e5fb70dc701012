import { assertQueueName } from '@taskq/queue';

/**
 * Where an event stream is in one queue: the seq of the last record (or
 * queue event) it passed on, the time of that event (Redis time, ms), the
 * queue's epoch then ('' when the queue had none), and whether the queue was
 * paused then.
 *
 * The time is what a resume needs for the tasks that have no stored record
 * (a task still where enqueue put it: its Queued record was published, not
 * stored): one enqueued at or after it may have been missed, one enqueued
 * before it was not (its Queued record had a lower seq, and was passed on).
 */
export interface QueuePosition {
  readonly seq: number;
  readonly at: number;
  readonly epoch: string;
  /** Whether the queue was paused as of this position (a resume says so when it no longer is). */
  readonly paused: boolean;
}

/** A stream's position in every queue it follows: queue name → position. */
export type StreamPosition = ReadonlyMap<string, QueuePosition>;

/** A Last-Event-ID that is not one of ours. */
export class EventIdError extends Error {
  override readonly name = 'EventIdError';
}

/** Most queues one id may name (a Last-Event-ID header is read whole). */
export const MAX_ID_QUEUES = 10_000;

const VALUE = /^(\d{1,15})\.(\d{1,15})\.(\d{0,20})(\.p)?$/;

/**
 * The id of a position that names no queue (an every-queue stream before any
 * queue exists): not empty, since an empty SSE id would make an EventSource
 * send no Last-Event-ID at all, and a stream started afresh would miss the
 * first events of the queues created meanwhile.
 */
export const NO_QUEUE_ID = '-';

/**
 * The SSE id of a position: URL-encoded `queue=<seq>.<at>.<epoch>` pairs
 * (`.p` after the epoch while the queue is paused), in queue-name order, e.g.
 * `emails=12.1796351881812.1796351881812120&sms=40.1796351882001.1796351880000007.p`
 * (a queue name's `:` is `%3A`); NO_QUEUE_ID for no queue.
 */
export function encodeEventId(position: StreamPosition): string {
  if (position.size === 0) return NO_QUEUE_ID;
  return [...position.keys()]
    .sort()
    .map((queue) => encodePair(queue, position.get(queue) as QueuePosition))
    .join('&');
}

/** One queue's part of an id: `<queue>=<seq>.<at>.<epoch>[.p]`, URL-encoded (of a queue name's characters only `:` needs it). */
export function encodePair(queue: string, p: QueuePosition): string {
  return `${queue.replace(/:/g, '%3A')}=${p.seq}.${p.at}.${p.epoch}${p.paused ? '.p' : ''}`;
}

/**
 * Reads an id made by encodeEventId. Throws EventIdError for anything else: a
 * queue name that is not one, a value not `<seq>.<at>.<epoch>[.p]` in decimal
 * digits, a queue named twice, more than MAX_ID_QUEUES queues. NO_QUEUE_ID
 * (or an empty id) names no queue.
 */
export function parseEventId(text: string): Map<string, QueuePosition> {
  const out = new Map<string, QueuePosition>();
  if (text.trim() === '' || text === NO_QUEUE_ID) return out;
  if (/[^A-Za-z0-9_.:%=&-]/.test(text)) throw new EventIdError('Last-Event-ID is not an id of this stream: it has characters such an id never has');
  for (const pair of text.split('&')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new EventIdError(`Last-Event-ID is not an id of this stream: "${preview(pair)}" is not queue=<seq>.<at>.<epoch>`);
    let queue: string;
    try {
      queue = decodeURIComponent(pair.slice(0, eq));
      assertQueueName(queue);
    } catch {
      throw new EventIdError(`Last-Event-ID is not an id of this stream: "${preview(pair.slice(0, eq))}" is not a queue name`);
    }
    const m = VALUE.exec(pair.slice(eq + 1));
    if (!m) throw new EventIdError(`Last-Event-ID is not an id of this stream: queue ${queue}'s position "${preview(pair.slice(eq + 1))}" is not <seq>.<at>.<epoch>[.p]`);
    if (out.has(queue)) throw new EventIdError(`Last-Event-ID is not an id of this stream: it names queue ${queue} twice`);
    out.set(queue, { seq: Number(m[1]), at: Number(m[2]), epoch: m[3] ?? '', paused: m[4] !== undefined });
    if (out.size > MAX_ID_QUEUES) throw new EventIdError(`Last-Event-ID names more than ${MAX_ID_QUEUES} queues`);
  }
  return out;
}

function preview(text: string): string {
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}
