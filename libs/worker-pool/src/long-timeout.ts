/** The longest delay a Node timer holds; a longer one fires after 1 ms (TimeoutOverflowWarning). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `fire` after `ms`, however long that is: a delay beyond MAX_TIMER_MS
 * (about 24.8 days) is waited out in steps. Returns a function that cancels it.
 */
export function setLongTimeout(fire: () => void, ms: number): () => void {
  const deadline = Date.now() + ms;
  let timer: NodeJS.Timeout;
  const arm = (): void => {
    const left = deadline - Date.now();
    timer = left > MAX_TIMER_MS ? setTimeout(arm, MAX_TIMER_MS) : setTimeout(fire, Math.max(0, left));
  };
  arm();
  return () => clearTimeout(timer);
}
