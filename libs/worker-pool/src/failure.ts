import type { AttemptRecord } from '@taskq/queue';

const STACK_LINES = 8;
const STACK_CHARS = 2000;

/**
 * A short, single-line reason for a failure, whatever was thrown. Never
 * throws itself: a value that cannot be turned into text (a throwing
 * getter, toString or Proxy trap) still gets a reason, so the attempt is
 * recorded instead of leaving the task InProgress.
 */
export function failureReason(thrown: unknown): string {
  try {
    if (thrown instanceof Error) return `${thrown.name === 'Error' ? '' : `${thrown.name}: `}${thrown.message}`;
    if (typeof thrown === 'string') return thrown;
    try {
      return `non-Error thrown: ${JSON.stringify(thrown)}`;
    } catch {
      return `non-Error thrown: ${String(thrown)}`;
    }
  } catch {
    return 'a thrown value that cannot be converted to text';
  }
}

/** The history entry of a failed attempt: message and a trimmed stack. */
export function attemptRecord(thrown: unknown, attempt: number, worker: string): AttemptRecord {
  let stack: string | undefined;
  try {
    if (thrown instanceof Error && typeof thrown.stack === 'string') {
      stack = thrown.stack.split('\n').slice(0, STACK_LINES).join('\n').slice(0, STACK_CHARS);
    }
  } catch {
    // a stack getter that throws: the entry goes without one
  }
  return { attempt, at: Date.now(), worker, error: failureReason(thrown), ...(stack ? { stack } : {}) };
}
