// Entry of a worker process, forked by the bench: one system's worker, driven over IPC.
// tsyringe (behind taskq's classes) needs Reflect.getMetadata at import.
import 'reflect-metadata';
import { epochNow, type BenchPayload } from './payload';
import type { WeightedPayload } from './weighted';
import type { OnTask } from './workers/bench-worker';
import { WORKER_FACTORIES } from './workers/factories';
import type { ParentMessage, WorkerConfig, WorkerMessage } from './workers/protocol';

const send = (message: WorkerMessage): void => {
  process.send?.(message);
};

const fail = (err: unknown): void => {
  send({ type: 'error', message: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 100).unref();
};

async function main(): Promise<void> {
  if (!process.send) throw new Error('worker-main runs as a forked child of the bench');
  const config = JSON.parse(process.argv[2] ?? '') as WorkerConfig;
  let handled = 0;
  const latencies: number[] = [];
  const prioritiesByQueue: Record<string, number[]> = Object.fromEntries((config.queues ?? []).map((q) => [q.name, []]));
  // The handler's whole cost: a counter, and in the latency scenario one clock read and a push,
  // in the weighted one a push of the priority onto its queue's list.
  const onTask: OnTask = config.recordLatency
    ? (payload: BenchPayload) => {
        handled++;
        latencies.push(epochNow() - payload.t);
      }
    : config.recordPriorities
      ? (payload: BenchPayload) => {
          handled++;
          const { q, p } = payload as WeightedPayload;
          (prioritiesByQueue[q] ??= []).push(p);
        }
      : () => {
          handled++;
        };
  const worker = await WORKER_FACTORIES[config.system](config, onTask);

  process.on('message', (message: ParentMessage) => {
    switch (message.type) {
      case 'go':
        worker.go().then(() => send({ type: 'started' }), fail);
        break;
      case 'report':
        send({ type: 'report', handled, latenciesMs: latencies, prioritiesByQueue });
        break;
      case 'stop':
        worker.stop().then(() => {
          send({ type: 'stopped' });
          process.disconnect();
        }, fail);
        break;
    }
  });
  // The parent went away: nothing left to work for.
  process.on('disconnect', () => setTimeout(() => process.exit(0), 2000).unref());
  send({ type: 'ready' });
}

main().catch(fail);
