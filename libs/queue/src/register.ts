import { registerOnce, resolveCore, resolveOptional, type Container } from './container';
import { Consumer, type ConsumerOptions } from './consumer';
import { Janitor, type JanitorSettings } from './janitor';
import { Queue, type QueueOptions } from './queue';
import { Flows } from './flow/flows';
import { TOKENS } from './tokens';

/**
 * Registers Queue, Flows, Consumer and Janitor in a tsyringe container (or any with
 * `register`/`resolve`/`isRegistered`), built from TOKENS.Connection,
 * TOKENS.QueueConfig and, when registered, TOKENS.Logger,
 * TOKENS.QueueOptions, TOKENS.ConsumerOptions and TOKENS.JanitorOptions. Each is made once, on its
 * first resolve. No `reflect-metadata` is needed: the classes take one options
 * object and are registered as factories.
 */
export function registerQueue<C extends Container>(c: C): C {
  registerOnce(c, Queue, (r) => {
    const { connection, config, logger } = resolveCore(r);
    const options = resolveOptional<Pick<QueueOptions, 'waitForReplicas'>>(r, TOKENS.QueueOptions, {});
    return new Queue({ ...options, ...config, connection, logger });
  });
  registerOnce(c, Flows, (r) => {
    const { connection, config, logger } = resolveCore(r);
    return new Flows({ ...config, connection, logger });
  });
  registerOnce(c, Consumer, (r) => {
    const { connection, config, logger } = resolveCore(r);
    const options = resolveOptional<Pick<ConsumerOptions, 'id'>>(r, TOKENS.ConsumerOptions, {});
    return new Consumer({ ...options, ...config, connection, logger });
  });
  registerOnce(c, Janitor, (r) => {
    const { connection, config, logger } = resolveCore(r);
    const settings = resolveOptional<JanitorSettings>(r, TOKENS.JanitorOptions, {});
    return new Janitor({ ...settings, ...config, connection, logger });
  });
  return c;
}
