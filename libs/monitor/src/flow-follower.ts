import type { Logger } from '@taskq/recorder';
import { decodeFlowEvent, FLOW_ENDED, type FlowEvent, type FlowState } from '@taskq/queue';
import { MonitorTimeoutError } from './monitor-timeout-error';
import type { WaitForOptions } from './wait-for';

/** `Monitor.waitForFlow` found no such flow: never added, forgotten after its retention, or lost by Redis. */
export class FlowNotFoundError extends Error {
  override readonly name = 'FlowNotFoundError';
}

interface Waiter {
  readonly resolve: (state: FlowState) => void;
  readonly reject: (err: Error) => void;
}

/**
 * The Monitor's part that follows flows: flow events for onFlowEvent
 * callbacks, and waits for flows to end. The flow's hash is the truth: a
 * wait reads it once subscribed, again on every event that ends the flow or
 * follows a gap in the flow's seq, and on every resync (after a reconnect),
 * so a lost event delays nothing past the next re-read.
 */
export class FlowFollower {
  private readonly waits = new Map<string, Set<Waiter>>();
  private readonly lastSeq = new Map<string, number>();
  readonly listeners = new Set<(event: FlowEvent) => void>();

  constructor(
    private readonly read: (flowId: string) => Promise<FlowState | undefined>,
    private readonly logger: Logger,
  ) {}

  /** Whether anything needs the flow events channel. */
  get active(): boolean {
    return this.waits.size > 0 || this.listeners.size > 0;
  }

  onMessage(message: string): void {
    const event = decodeFlowEvent(message);
    if (event === undefined) return;
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (err) {
        this.logger.warn({ err, flow: event.flow }, '[Monitor] A flow event callback threw');
      }
    }
    if (!this.waits.has(event.flow)) return;
    const last = this.lastSeq.get(event.flow);
    this.lastSeq.set(event.flow, Math.max(last ?? 0, event.seq));
    const gap = last !== undefined && event.seq > last + 1;
    if (FLOW_ENDED.has(event.status) || gap) this.check(event.flow);
  }

  /** Waits for the flow to end; `started` resolves once the events channel is subscribed (then the first read). */
  wait(flowId: string, started: Promise<void>, options: WaitForOptions): Promise<FlowState> {
    return new Promise<FlowState>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        if (timer) clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        const set = this.waits.get(flowId);
        set?.delete(waiter);
        if (set?.size === 0) {
          this.waits.delete(flowId);
          this.lastSeq.delete(flowId);
        }
      };
      const waiter: Waiter = {
        resolve: (state) => {
          done();
          resolve(state);
        },
        reject: (err) => {
          done();
          reject(err);
        },
      };
      const onAbort = (): void => waiter.reject(options.signal?.reason instanceof Error ? options.signal.reason : new Error('aborted'));
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (options.timeoutMs !== undefined) {
        timer = setTimeout(() => waiter.reject(new MonitorTimeoutError([flowId], 1, options.timeoutMs as number)), options.timeoutMs);
      }
      let set = this.waits.get(flowId);
      if (!set) this.waits.set(flowId, (set = new Set()));
      set.add(waiter);
      started.then(
        () => this.check(flowId),
        (err: unknown) => waiter.reject(err instanceof Error ? err : new Error(String(err))),
      );
    });
  }

  /** Re-reads every awaited flow (after a reconnect). */
  async resync(): Promise<void> {
    await Promise.all([...this.waits.keys()].map((id) => this.checkNow(id)));
  }

  /** Rejects every wait (the monitor stopped). */
  rejectAll(err: Error): void {
    for (const set of [...this.waits.values()]) for (const w of [...set]) w.reject(err);
  }

  private check(flowId: string): void {
    void this.checkNow(flowId);
  }

  private async checkNow(flowId: string): Promise<void> {
    let state: FlowState | undefined;
    try {
      state = await this.read(flowId);
    } catch (err) {
      // the next event or resync reads again
      this.logger.warn({ err, flow: flowId }, `[Monitor] Reading flow ${flowId} failed: ${String(err)}`);
      return;
    }
    const set = this.waits.get(flowId);
    if (!set) return;
    if (state === undefined) {
      for (const w of [...set]) w.reject(new FlowNotFoundError(`flow ${flowId} not found: never added, forgotten after its retention, or lost by Redis`));
    } else if (FLOW_ENDED.has(state.status)) {
      for (const w of [...set]) w.resolve(state);
    }
  }
}
