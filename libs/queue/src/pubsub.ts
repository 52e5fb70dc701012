import type { Cluster, Redis } from 'ioredis';
import { isClusterClient } from './lua-script';

// Subscribing to taskq's channels on a single server and on a Redis Cluster
// alike. On a Cluster the queue scripts publish with SPUBLISH (sharded
// pub/sub, see LuaScript): a queue's channels — `<prefix>:{<queue>}:events`,
// `:wake`, `:control` — are shard channels, followed with SSUBSCRIBE on the
// node that owns the queue's slot, their messages arriving as 'smessage'. The
// flow events channel has no hash tag and stays a plain channel everywhere.
// A Cluster subscriber needs `shardedSubscribers: true` (duplicateClient
// gives it that): ioredis then keeps one subscriber connection per master
// and, when the slot map changes (a resharding, a failover), subscribes each
// channel again on its slot's new owner and emits 'subscribersReady'.

/** A client that subscribes: a standalone connection, or a Cluster. */
export type Subscriber = Redis | Cluster;

const HASH_TAG = /\{[^{}]+\}/;

/** Whether `channel` is a shard channel for `client`: on a Cluster, every channel under a hash tag (a queue's) is. */
export function isShardChannel(client: unknown, channel: string): boolean {
  return isClusterClient(client) && HASH_TAG.test(channel);
}

/** Splits channels into the plain ones and the shard ones of `client`. */
function split(client: Subscriber, channels: readonly string[]): { plain: string[]; shard: string[] } {
  const plain: string[] = [];
  const shard: string[] = [];
  for (const c of channels) (isShardChannel(client, c) ? shard : plain).push(c);
  return { plain, shard };
}

/**
 * Subscribes `client` to `channels`: SUBSCRIBE for plain channels,
 * SSUBSCRIBE for shard channels (one call per channel: a Cluster takes the
 * channels of one slot per SSUBSCRIBE). Resolves once Redis confirmed all.
 */
export async function subscribeChannels(client: Subscriber, channels: readonly string[]): Promise<void> {
  const { plain, shard } = split(client, channels);
  const calls: Promise<unknown>[] = [];
  if (plain.length > 0) calls.push(client.subscribe(...plain));
  for (const c of shard) calls.push(client.ssubscribe(c));
  await Promise.all(calls);
}

/** Undoes subscribeChannels for `channels`. */
export async function unsubscribeChannels(client: Subscriber, channels: readonly string[]): Promise<void> {
  const { plain, shard } = split(client, channels);
  const calls: Promise<unknown>[] = [];
  if (plain.length > 0) calls.push(client.unsubscribe(...plain));
  for (const c of shard) calls.push(client.sunsubscribe(c));
  await Promise.all(calls);
}

/** Calls `listener` with every message of a plain or shard channel of `client`. Returns the function that stops that. */
export function onChannelMessage(client: Subscriber, listener: (channel: string, message: string) => void): () => void {
  client.on('message', listener);
  client.on('smessage', listener);
  return () => {
    client.off('message', listener);
    client.off('smessage', listener);
  };
}

/**
 * On a Cluster: calls `listener` each time ioredis has subscribed the shard
 * channels again after its first time (the slot map changed — a resharding
 * moved a slot, a failover promoted a replica — or a subscriber connection
 * was lost and made again): messages may have been missed meanwhile. Never
 * on a single server (its 'ready' after a reconnect says that there).
 * Returns the function that stops that.
 */
export function onShardResubscribe(client: Subscriber, listener: () => void): () => void {
  if (!isClusterClient(client)) return () => undefined;
  let first = true;
  const onReady = (): void => {
    if (first) {
      first = false;
      return;
    }
    listener();
  };
  client.on('subscribersReady', onReady);
  return () => client.off('subscribersReady', onReady);
}

/**
 * How often (ms) a Cluster subscriber made by duplicateClient reloads the
 * slot map when no command of its own tells it of a change: a resharding is
 * noticed, and its channels followed on their new node, within this.
 */
export const SHARD_REFRESH_MS = 1000;

/**
 * A Cluster subscriber's sharded subscriber connections (one per master; an
 * ioredis internal, read defensively: [] if it is not there), for a barrier:
 * a PING on each is answered after every shard message it received before.
 */
export function shardConnections(client: Subscriber): Redis[] {
  if (!isClusterClient(client)) return [];
  const group = (client as unknown as { shardedSubscribers?: { shardedSubscribers?: unknown } }).shardedSubscribers?.shardedSubscribers;
  if (!(group instanceof Map)) return [];
  const out: Redis[] = [];
  for (const s of group.values() as Iterable<{ getInstance?: () => Redis | null }>) {
    const instance = s.getInstance?.();
    if (instance && instance.status === 'ready') out.push(instance);
  }
  return out;
}

/**
 * Resolves once every message `client` was sent before this call has been
 * emitted: a PING on the connection (on a Cluster, on each sharded
 * subscriber connection), whose reply comes after them. True then; false
 * when a Cluster has no sharded subscriber connection ready to ask (nothing
 * was pinged, so nothing is known about its messages).
 */
export async function subscriberBarrier(client: Subscriber): Promise<boolean> {
  if (!isClusterClient(client)) {
    await client.ping();
    return true;
  }
  const connections = shardConnections(client);
  if (connections.length === 0) return false;
  await Promise.all(connections.map((c) => c.ping()));
  return true;
}
