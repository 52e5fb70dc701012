import { ClaimRelay, ID_BYTES, SLOT_FREE, SLOT_MAIN, SLOT_PENDING, SLOT_THREAD } from './claim-relay';

// The claim relay's slots: one side sends each claim, whichever moves it from
// PENDING first (the heartbeat thread does what `threadTakes` does here).

/** What threads/heartbeat.cjs does with a slot it finds pending: takes it and reads the claim, or undefined when the main thread was first. */
function threadTakes(relay: ClaimRelay, slot: number): { lane: number; id: string; worker: number; startedAt: number } | undefined {
  const states = new Int32Array(relay.buffers.states);
  if (Atomics.compareExchange(states, slot, SLOT_PENDING, SLOT_THREAD) !== SLOT_PENDING) return undefined;
  const meta = new Int32Array(relay.buffers.meta);
  const ids = new Uint8Array(relay.buffers.ids);
  const id = new TextDecoder().decode(ids.slice(slot * ID_BYTES, slot * ID_BYTES + (meta[3 * slot + 1] ?? 0)));
  return { lane: meta[3 * slot] ?? -1, id, worker: meta[3 * slot + 2] ?? -1, startedAt: new Float64Array(relay.buffers.starts)[slot] ?? 0 };
}

describe('ClaimRelay', () => {
  it('a pending claim goes to one side: the main thread takes it and the thread cannot, or the other way round', () => {
    const relay = new ClaimRelay(4);
    const a = relay.put(0, 1, 'a', 1000) ?? -1;
    expect(relay.stateOf(a)).toBe(SLOT_PENDING);
    expect(relay.take(a)).toBe(true);
    expect(relay.stateOf(a)).toBe(SLOT_MAIN);
    expect(threadTakes(relay, a)).toBeUndefined();
    const b = relay.put(1, 2, 'b', 2000) ?? -1;
    expect(threadTakes(relay, b)).toEqual({ lane: 1, id: 'b', worker: 2, startedAt: 2000 });
    expect(relay.stateOf(b)).toBe(SLOT_THREAD);
    expect(relay.take(b)).toBe(false);
  });

  it('a failed call makes a claim pending again (either side may take it); an answered one frees its slot for the next claim', () => {
    const relay = new ClaimRelay(1);
    const slot = relay.put(0, 0, 'x', 1) ?? -1;
    expect(relay.put(0, 0, 'y', 2)).toBeUndefined(); // no slot free: that claim waits for the main thread alone
    expect(relay.take(slot)).toBe(true);
    relay.pending(slot);
    expect(threadTakes(relay, slot)?.id).toBe('x');
    relay.release(slot);
    expect(relay.stateOf(slot)).toBe(SLOT_FREE);
    const again = relay.put(2, 3, 'z', 3);
    expect(again).toBe(slot);
    expect(threadTakes(relay, slot)).toEqual({ lane: 2, id: 'z', worker: 3, startedAt: 3 });
  });

  it('carries the longest id of any characters whole (256 UTF-16 units of 3 UTF-8 bytes each: the whole slot), surrogate pairs too; a longer one is not relayed', () => {
    const relay = new ClaimRelay(3);
    const long = '€'.repeat(256);
    expect(new TextEncoder().encode(long).length).toBe(ID_BYTES);
    const emoji = '😀'.repeat(128);
    const s1 = relay.put(0, 0, long, 0) ?? -1;
    const s2 = relay.put(0, 0, emoji, 0) ?? -1;
    expect(threadTakes(relay, s1)?.id).toBe(long);
    expect(threadTakes(relay, s2)?.id).toBe(emoji);
    // longer than a task id may be (another client stored it): it waits for the main thread alone, and its slot stays free
    expect(relay.put(0, 0, '€'.repeat(257), 0)).toBeUndefined();
    expect(relay.put(0, 0, 'ok', 0)).toBeDefined();
  });
});
