/**
 * Waits until `check()` holds, looking again every `pollMs` (0: at the next
 * turn of the event loop), and fails after `timeoutMs` naming `what` (a
 * function: evaluated then, so the message can show the state it found).
 */
export async function waitFor(
  what: string | (() => string),
  check: () => boolean | Promise<boolean>,
  { timeoutMs = 5000, pollMs = 10 }: { timeoutMs?: number; pollMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise<void>((resolve) => (pollMs === 0 ? setImmediate(resolve) : setTimeout(resolve, pollMs)));
  }
}
