import type { AttemptRecord } from '@taskq/queue';

const STACK_LINES = 8;
const STACK_CHARS = 2000;

/** A short, single-line reason for a failure, whatever was thrown. */
export function failureReason(thrown: unknown): string {
  if (thrown instanceof Error) return `${thrown.name === 'Error' ? '' : `${thrown.name}: `}${thrown.message}`;
  if (typeof thrown === 'string') return thrown;
  try {
    return `non-Error thrown: ${JSON.stringify(thrown)}`;
  } catch {
    return `non-Error thrown: ${String(thrown)}`;
  }
}

/** The history entry of a failed attempt: message and a trimmed stack. */
export function attemptRecord(thrown: unknown, attempt: number, worker: string): AttemptRecord {
  const stack =
    thrown instanceof Error && typeof thrown.stack === 'string'
      ? thrown.stack.split('\n').slice(0, STACK_LINES).join('\n').slice(0, STACK_CHARS)
      : undefined;
  return { attempt, at: Date.now(), worker, error: failureReason(thrown), ...(stack ? { stack } : {}) };
}
