import type { RedisClient } from '@taskq/queue';
import type { SseClient, SseEvent } from './sse-client';
import { waitUntil } from './wait';

// What the GET /events tests read from a stream: status records, the ready
// event, the replay before it, the position an event id gives a queue.

export interface Rec {
  readonly queue: string;
  readonly id: string;
  readonly status: string;
  readonly attempt: number;
  readonly at: number;
  readonly seq: number;
  readonly replayed?: boolean;
  readonly reason?: string;
}

export const rec = (e: SseEvent): Rec => e.json as unknown as Rec;
export const isReady = (e: SseEvent): boolean => e.event === 'ready';
export const statusOf = (queue: string, id: string, status: string) => (e: SseEvent) => e.event === 'status' && rec(e).queue === queue && rec(e).id === id && rec(e).status === status;

/** The position an SSE id gives one queue: seq, time, epoch. */
export function positionIn(id: string | undefined, queue: string): { seq: number; at: number; epoch: string } | undefined {
  const value = new URLSearchParams(id ?? '').get(queue);
  if (value === null) return undefined;
  const [seq, at, epoch] = value.split('.');
  return { seq: Number(seq), at: Number(at), epoch: epoch ?? '' };
}

/** The events a connection got before its `ready` (the replay) and after it (live). */
export function split(sse: SseClient): { replay: SseEvent[]; live: SseEvent[] } {
  const at = sse.events.findIndex(isReady);
  return at < 0 ? { replay: sse.events, live: [] } : { replay: sse.events.slice(0, at), live: sse.events.slice(at + 1) };
}

/** Redis's clock, ms. */
export async function redisNow(redis: RedisClient): Promise<number> {
  const [s, us] = await redis.time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

/**
 * Waits until Redis's clock is past the millisecond it shows now: what is
 * recorded next has a later time than what was recorded before. (A resume
 * replays the unmoved tasks enqueued in the same millisecond as the last
 * event the client saw; the tests that count replayed events keep their
 * steps a millisecond apart.)
 */
export async function nextMillisecond(redis: RedisClient): Promise<void> {
  const now = await redisNow(redis);
  await waitUntil(async () => (await redisNow(redis)) > now, { what: "Redis's clock to move on", timeoutMs: 1000, intervalMs: 1 });
}
