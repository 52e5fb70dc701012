import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cluster, Redis } from 'ioredis';
import { RECORD_LUA } from '@taskq/recorder';

/** One Lua script: a transition, with the status-record prelude prepended. */
export class LuaScript {
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /**
   * Runs the script: EVALSHA first (cheap), EVAL when the server does not
   * know it yet (first call, after a restart or SCRIPT FLUSH).
   */
  async run(redis: Redis | Cluster, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('NOSCRIPT')) {
        return redis.eval(this.source, keys.length, ...keys, ...args);
      }
      throw err;
    }
  }
}

const luaFile = (name: string): string => readFileSync(join(__dirname, '..', 'lua', `${name}.lua`), 'utf8');

/** The queue prelude (lua/prelude.lua): attempt counts of held tasks. */
const QUEUE_PRELUDE = luaFile('prelude');

/**
 * Loads `lua/<name>.lua` from the package (beside both src/ and dist/, so the
 * tests and the build run the same text) and prefixes the record prelude
 * and the queue prelude.
 */
export function loadScript(name: string): LuaScript {
  return new LuaScript(name, `${RECORD_LUA}\n${QUEUE_PRELUDE}\n${luaFile(name)}`);
}

/** The flow prelude (lua/flow/prelude.lua): a flow's hash, its events and actions. */
const FLOW_PRELUDE = luaFile('flow/prelude');

/** Loads `lua/flow/<name>.lua` with the record prelude and the flow prelude (the flow scripts touch one flow's hash only). */
export function loadFlowScript(name: string): LuaScript {
  return new LuaScript(`flow/${name}`, `${RECORD_LUA}\n${FLOW_PRELUDE}\n${luaFile(`flow/${name}`)}`);
}

/** Every transition script of the queue, loaded once per process. */
export const SCRIPTS = {
  enqueue: loadScript('enqueue'),
  fetch: loadScript('fetch'),
  fail: loadScript('fail'),
  release: loadScript('release'),
  recover: loadScript('recover'),
  heartbeat: loadScript('heartbeat'),
  staleConsumers: loadScript('stale-consumers'),
  cancel: loadScript('cancel'),
  requeueDead: loadScript('requeue-dead'),
  requeueFailed: loadScript('requeue-failed'),
  trim: loadScript('trim'),
  reconcile: loadScript('reconcile'),
  pause: loadScript('pause'),
  resume: loadScript('resume'),
  limitSet: loadScript('limit-set'),
  limitsRepair: loadScript('limits-repair'),
  scheduleSet: loadScript('schedule-set'),
  scheduleAdvance: loadScript('schedule-advance'),
  progress: loadScript('progress'),
  listPage: loadScript('list-page'),
  throughputTrim: loadScript('throughput-trim'),
} as const;
