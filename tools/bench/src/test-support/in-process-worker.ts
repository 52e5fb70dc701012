import { epochNow } from '../payload';
import type { ClusterWorker, StartWorker } from '../scenarios/cluster-drain';
import { WORKER_FACTORIES } from '../workers/factories';

/**
 * A cluster-, fleet- or idle-fleet-scenario worker in the test's own process
 * (jest runs the TypeScript sources, so there is no built worker-main.js to
 * fork): the bench's worker factories, counting handler calls (and, with
 * `recordLatency`, recording enqueue-to-start as worker-main does). No pid of
 * its own.
 */
export const startInProcessWorker: StartWorker = async (config) => {
  let handled = 0;
  const latenciesMs: number[] = [];
  const worker = await WORKER_FACTORIES[config.system](config, (payload) => {
    handled++;
    if (config.recordLatency) latenciesMs.push(epochNow() - payload.t);
  });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await worker.stop();
  };
  const handle: ClusterWorker = {
    pid: undefined,
    go: () => worker.go(),
    report: async () => ({ handled, latenciesMs, prioritiesByQueue: {} }),
    stop,
    kill: stop,
    assertHealthy: () => undefined,
  };
  return handle;
};
