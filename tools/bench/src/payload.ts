/**
 * The payload every system carries: a small JSON object, the same shape for
 * all. `t` is the enqueue time (ms since the epoch, sub-ms precision), which
 * the latency scenario's worker subtracts from its own clock at handler start.
 */
export type BenchPayload = { i: number; t: number; tag: string };

/** Milliseconds since the epoch with sub-millisecond precision, comparable across processes on one machine. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

export function payload(i: number, t: number = epochNow()): BenchPayload {
  return { i, t, tag: 'bench' };
}

/** Payloads `from` .. `from + count - 1`. */
export function payloads(count: number, from = 0): BenchPayload[] {
  const t = epochNow();
  const out: BenchPayload[] = new Array<BenchPayload>(count);
  for (let k = 0; k < count; k++) out[k] = payload(from + k, t);
  return out;
}
