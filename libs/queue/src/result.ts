/**
 * Task results: the value a handler returns, stored as JSON text in the
 * queue's results hash by the ack that records the task Done (see
 * QueueKeys.results), and read back with Queue.result / Queue.results.
 */
import type { JsonValue } from './task';

/** Default of the worker pool's `maxResultBytes`: the largest result stored, in bytes of its JSON text (UTF-8). */
export const DEFAULT_MAX_RESULT_BYTES = 64 * 1024;

/** Why a handler's return value cannot be stored as its task's result (the task is recorded Failed with this reason). */
export class ResultError extends Error {
  override readonly name = 'ResultError';
}

function describe(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  return typeof value;
}

/** What JSON.stringify threw, as text (even a hostile thrown value). */
function thrown(err: unknown): string {
  try {
    return err instanceof Error ? err.message : String(err);
  } catch {
    return 'its conversion threw a value that cannot be shown';
  }
}

/**
 * The JSON text to store for a handler's return value: undefined for
 * undefined (no result, nothing stored). Throws a ResultError when the value
 * is not JSON (`result is not JSON: …`: a BigInt, a cycle, a function, a
 * throwing toJSON) or its JSON text is longer than `maxBytes` in UTF-8
 * (`result of N bytes is larger than maxResultBytes (M)`).
 */
export function encodeResult(value: unknown, maxBytes: number = DEFAULT_MAX_RESULT_BYTES): string | undefined {
  if (value === undefined) return undefined;
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new ResultError(`result is not JSON: ${thrown(err)}`);
  }
  if (text === undefined) throw new ResultError(`result is not JSON: ${describe(value)} has no JSON form`);
  // at most 3 bytes per UTF-16 unit: a short text needs no count
  if (text.length * 3 > maxBytes) {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > maxBytes) throw new ResultError(`result of ${bytes} bytes is larger than maxResultBytes (${maxBytes})`);
  }
  return text;
}

/** A stored result's JSON text, parsed (null, missing: undefined). */
export function decodeResult(text: string | null | undefined): JsonValue | undefined {
  if (text === null || text === undefined) return undefined;
  return JSON.parse(text) as JsonValue;
}
