import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cluster, Redis } from 'ioredis';
import { RECORD_LUA } from '@taskq/recorder';

/** Whether `client` is an ioredis Cluster (its `isCluster` flag). */
export function isClusterClient(client: unknown): client is Cluster {
  return (client as { isCluster?: boolean } | undefined)?.isCluster === true;
}

/** One text of a script, with its SHA1 (what EVALSHA names it by). */
export interface ScriptText {
  readonly source: string;
  readonly sha: string;
}

const scriptText = (source: string): ScriptText => ({ source, sha: createHash('sha1').update(source).digest('hex') });

/**
 * One Lua script: a transition, with the status-record prelude prepended.
 *
 * A queue's scripts come in two texts: the one for a single server, whose
 * `PUBLISH`es reach every subscriber of the server, and the one for a Redis
 * Cluster, the same with `SPUBLISH` (sharded pub/sub, Redis 7): a queue's
 * channels are under its hash tag, so a message stays on the node that owns
 * the queue's slot instead of being broadcast over the cluster bus to every
 * node. `run` picks the text by the client. The flow scripts publish on the
 * flow events channel, which has no hash tag: they keep `PUBLISH` everywhere.
 */
export class LuaScript {
  /** The text for a single server (or a Sentinel-managed one). */
  readonly plain: ScriptText;
  /** The text for a Cluster (`SPUBLISH`), the plain one for a script that does not shard its publishes. */
  readonly sharded: ScriptText;

  constructor(
    readonly name: string,
    source: string,
    shardPublishes = false,
  ) {
    this.plain = scriptText(source);
    this.sharded = shardPublishes ? scriptText(shardedSource(source)) : this.plain;
  }

  /** The plain text (see `plain`). */
  get source(): string {
    return this.plain.source;
  }

  get sha(): string {
    return this.plain.sha;
  }

  /** The text to run on `client`: the sharded one on a Cluster. */
  textFor(client: unknown): ScriptText {
    return isClusterClient(client) ? this.sharded : this.plain;
  }

  /**
   * Runs the script: EVALSHA first (cheap), EVAL when the server does not
   * know it yet (first call, after a restart or SCRIPT FLUSH, or a Cluster
   * node that just took over the slot).
   */
  async run(redis: Redis | Cluster, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    const text = this.textFor(redis);
    try {
      return await redis.evalsha(text.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('NOSCRIPT')) {
        return redis.eval(text.source, keys.length, ...keys, ...args);
      }
      throw err;
    }
  }
}

/**
 * A script's Cluster text: every `redis.call('PUBLISH', …)` (and `call('PUBLISH', …)`)
 * becomes `SPUBLISH`. Throws when the text has no `'PUBLISH'` left to
 * replace yet mentions PUBLISH another way (a form this would miss).
 */
export function shardedSource(source: string): string {
  const out = source.replace(/'PUBLISH'/g, "'SPUBLISH'");
  if (/(?<!S)PUBLISH/.test(out.replace(/--[^\n]*/g, ''))) throw new Error('a PUBLISH this cannot make sharded is left in a script');
  return out;
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
  return new LuaScript(name, `${RECORD_LUA}\n${QUEUE_PRELUDE}\n${luaFile(name)}`, true);
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
