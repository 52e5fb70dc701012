/**
 * A change of the queue itself, published on its events channel beside the
 * status records (a JSON object, where status messages are arrays), with a
 * seq of its own from the queue's counter.
 */
export interface QueueEvent {
  readonly event: 'paused' | 'resumed';
  /** Redis server time, ms. */
  readonly at: number;
  readonly seq: number;
  /** Why it was paused, when the caller said. */
  readonly reason?: string;
}

/** Decodes a queue event (pause.lua, resume.lua); undefined for anything else. */
export function decodeQueueEvent(text: string): QueueEvent | undefined {
  if (!text.startsWith('{')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if ((v['event'] !== 'paused' && v['event'] !== 'resumed') || typeof v['at'] !== 'number' || typeof v['seq'] !== 'number') return undefined;
  return { event: v['event'], at: v['at'], seq: v['seq'], ...(typeof v['reason'] === 'string' ? { reason: v['reason'] } : {}) };
}
