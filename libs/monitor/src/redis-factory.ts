import type { Redis } from 'ioredis';

/**
 * Creates a new connection (registered under `TOKENS.RedisFactory`). The
 * monitor owns what it gets: a subscriber connection can run no other
 * command, so it never shares the injected `TOKENS.Redis` client.
 */
export type RedisFactory = () => Redis;
