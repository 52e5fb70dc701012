import { MAX_ID_LENGTH } from '@taskq/queue';

/**
 * The claims of handed-off tasks waiting for the pool's next call, shared
 * with the heartbeat thread (see WorkerPoolSettings.handOff). A claim waits
 * for the main thread (one that lingers, to share a call with others; one
 * that goes at once when the loop is busy that turn); a handler that blocks
 * the event loop would hold it back, its task reading `Queued` while it runs.
 * So every claim is also written here, and the heartbeat thread (own
 * connection, own timers) sends the claims left pending past their linger
 * with a call of its own. One side sends each claim: the
 * side whose `Atomics.compareExchange` moves its slot from PENDING wins.
 *
 * Layout (one SharedArrayBuffer each, slot i): `states[i]`; `meta[3i]` the
 * lane (queue index), `meta[3i + 1]` the id's UTF-8 length, `meta[3i + 2]` the
 * sub-worker's index among the pool's names; `starts[i]` the handler's start
 * (`performance.timeOrigin + performance.now()`: steady, and comparable across
 * threads); `ids[i * ID_BYTES ..]` the id's UTF-8 bytes.
 */
export const SLOT_FREE = 0;
export const SLOT_PENDING = 1;
/** The main thread took it for its call. */
export const SLOT_MAIN = 2;
/** The heartbeat thread took it for its call. */
export const SLOT_THREAD = 3;

/** Bytes of an id's UTF-8 text: a task id has up to MAX_ID_LENGTH UTF-16 units, each up to 3 bytes (a pair: 4 for 2). */
export const ID_BYTES = 3 * MAX_ID_LENGTH;

/** What the heartbeat thread gets (workerData.relay). */
export interface RelayBuffers {
  readonly states: SharedArrayBuffer;
  readonly meta: SharedArrayBuffer;
  readonly starts: SharedArrayBuffer;
  readonly ids: SharedArrayBuffer;
  readonly slots: number;
}

export class ClaimRelay {
  readonly buffers: RelayBuffers;
  private readonly states: Int32Array;
  private readonly meta: Int32Array;
  private readonly starts: Float64Array;
  private readonly ids: Uint8Array;
  private readonly free: number[] = [];
  private readonly encoder = new TextEncoder();

  constructor(readonly slots: number) {
    const states = new SharedArrayBuffer(4 * slots);
    const meta = new SharedArrayBuffer(4 * 3 * slots);
    const starts = new SharedArrayBuffer(8 * slots);
    const ids = new SharedArrayBuffer(ID_BYTES * slots);
    this.buffers = { states, meta, starts, ids, slots };
    this.states = new Int32Array(states);
    this.meta = new Int32Array(meta);
    this.starts = new Float64Array(starts);
    this.ids = new Uint8Array(ids);
    for (let i = slots - 1; i >= 0; i--) this.free.push(i);
  }

  /**
   * Writes a pending claim; its slot, or undefined when none is free (that
   * claim waits for the main thread alone).
   */
  put(lane: number, worker: number, id: string, startedAt: number): number | undefined {
    const slot = this.free.pop();
    if (slot === undefined) return undefined;
    const { read, written } = this.encoder.encodeInto(id, this.ids.subarray(slot * ID_BYTES, (slot + 1) * ID_BYTES));
    if (read < id.length) {
      // longer than a task id can be (stored by some other client): not relayed
      this.free.push(slot);
      return undefined;
    }
    this.meta[3 * slot] = lane;
    this.meta[3 * slot + 1] = written;
    this.meta[3 * slot + 2] = worker;
    this.starts[slot] = startedAt;
    // published last: the thread reads a slot's fields only after it saw it PENDING
    Atomics.store(this.states, slot, SLOT_PENDING);
    return slot;
  }

  /** The main thread takes a pending claim for its call: false when the thread took it first. */
  take(slot: number): boolean {
    return Atomics.compareExchange(this.states, slot, SLOT_PENDING, SLOT_MAIN) === SLOT_PENDING;
  }

  /** A call that carried it failed: pending again (either side may send it next). */
  pending(slot: number): void {
    Atomics.store(this.states, slot, SLOT_PENDING);
  }

  /** Answered: the slot is free again. */
  release(slot: number): void {
    Atomics.store(this.states, slot, SLOT_FREE);
    this.free.push(slot);
  }

  /** The slot's state (tests). */
  stateOf(slot: number): number {
    return Atomics.load(this.states, slot);
  }
}
