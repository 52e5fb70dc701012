import type { Redis } from 'ioredis';
import { connectRedis } from '@taskq/queue';
import type { BenchPayload } from '../payload';
import { LEAN_CHANNEL, LEAN_LUA, LEAN_SCRIPT_KEYS, leanFeatures, type LeanSystem } from '../reference/lean';
import type { BenchWorker, OnTask, WorkerFactory } from './bench-worker';

/** Round trips in flight, each for half the sub-workers (as taskq's pool does). */
const LANES = 2;
/** How long a lane waits before asking a dry queue again. */
const IDLE_POLL_MS = 5;

type LeanRedis = Redis & { leanExchange(...args: (string | number)[]): Promise<unknown[]> };

/**
 * The lean reference's worker (see reference/lean.ts): LANES loops, each
 * sending the previous batch's acks and asking for the next batch in one
 * call, running the batch's handlers concurrently, and waiting for all of
 * them before its next call.
 */
export function leanWorkerFactory(system: LeanSystem): WorkerFactory {
  const features = leanFeatures(system);
  const withWorkers = features.includes('workers');
  const withFence = features.includes('fence');
  return async (config, onTask) => {
    if (config.queues) throw new Error(`${system} runs the drain scenario only (one queue)`);
    const redis = (await connectRedis(config.url, { connectionName: `bench-${system}-worker` })) as LeanRedis;
    redis.defineCommand('leanExchange', { numberOfKeys: LEAN_SCRIPT_KEYS.length, lua: LEAN_LUA });
    const share = Math.ceil(config.concurrency / LANES);
    let stopping = false;
    const run = async (handler: OnTask, payload: BenchPayload): Promise<void> => handler(payload);

    const lane = async (index: number): Promise<void> => {
      const names = Array.from({ length: share }, (_, k) => `${system}-${process.pid}#${index * share + k}`);
      let acks: string[] = [];
      let ackCount = 0;
      for (;;) {
        const want = stopping ? 0 : share;
        if (want === 0 && ackCount === 0) return;
        const args: (string | number)[] = [...LEAN_SCRIPT_KEYS, features.join(','), LEAN_CHANNEL, ackCount, ...acks, want];
        if (withWorkers && want > 0) args.push(...names);
        const reply = await redis.leanExchange(...args);
        acks = [];
        ackCount = 0;
        const tasks = (reply.length - 1) / 4;
        if (tasks === 0) {
          if (!stopping) await new Promise((resolve) => setTimeout(resolve, IDLE_POLL_MS));
          continue;
        }
        const runs: Promise<void>[] = [];
        for (let k = 0; k < tasks; k++) {
          const id = String(reply[1 + 4 * k]);
          const payload = JSON.parse(String(reply[2 + 4 * k])) as BenchPayload;
          const token = String(reply[4 + 4 * k]);
          const name = names[k];
          runs.push(
            run(onTask, payload).then(() => {
              acks.push(id);
              if (withWorkers) acks.push(name);
              if (withFence) acks.push(token);
              ackCount++;
            }),
          );
        }
        await Promise.all(runs);
      }
    };

    let lanes: Promise<void>[] = [];
    const worker: BenchWorker = {
      go: async () => {
        lanes = Array.from({ length: LANES }, (_, i) => lane(i));
      },
      stop: async () => {
        stopping = true;
        await Promise.all(lanes);
        await redis.quit();
      },
    };
    return worker;
  };
}
