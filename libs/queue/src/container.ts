import { silentLogger, type Logger } from '@taskq/recorder';
import { DEFAULT_QUEUE, type QueueConfig } from './config';
import type { Connection } from './redis-handle';
import { TOKENS } from './tokens';

/** A token a container resolves: a class or a symbol. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Token<T> = symbol | (new (...args: any[]) => T);

/**
 * The part of a tsyringe `DependencyContainer` the registration helpers use
 * (any container with these methods will do). taskq does not import tsyringe:
 * its classes take one options object, and the helpers register factories.
 */
export interface Container {
  register<T>(token: Token<T>, provider: { useFactory: (c: Container) => T }): unknown;
  resolve<T>(token: Token<T>): T;
  isRegistered<T>(token: Token<T>, recursive?: boolean): boolean;
}

/** `c.resolve(token)` when registered (here or in a parent), else `fallback`. */
export function resolveOptional<T>(c: Container, token: symbol, fallback: T): T {
  return c.isRegistered(token, true) ? c.resolve<T>(token) : fallback;
}

/** What every taskq object is built from in a container: the connection, the queue config and the logger. */
export interface CoreRegistration {
  readonly connection: Connection;
  readonly config: QueueConfig;
  readonly logger: Logger;
}

/** Resolves the shared tokens (TOKENS.Connection and TOKENS.QueueConfig required, TOKENS.Logger optional). */
export function resolveCore(c: Container): CoreRegistration {
  return {
    connection: c.resolve<Connection>(TOKENS.Connection),
    config: resolveOptional<QueueConfig>(c, TOKENS.QueueConfig, { queue: DEFAULT_QUEUE }),
    logger: resolveOptional<Logger>(c, TOKENS.Logger, silentLogger),
  };
}

/**
 * Registers a factory that builds `token` once per container that resolves
 * it, from that container's registrations (like tsyringe's
 * `instancePerContainerCachingFactory`): a child container that registers its
 * own TOKENS.Connection gets an object on that connection, whichever
 * container resolved first.
 */
export function registerOnce<T>(c: Container, token: Token<T>, make: (c: Container) => T): void {
  const made = new WeakMap<Container, T>();
  c.register<T>(token, {
    useFactory: (resolver) => {
      if (made.has(resolver)) return made.get(resolver) as T;
      const value = make(resolver);
      made.set(resolver, value);
      return value;
    },
  });
}
