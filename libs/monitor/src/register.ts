import { registerOnce, resolveCore, resolveOptional, TOKENS, type Container } from '@taskq/queue';
import { Monitor } from './monitor';
import type { MonitorSettings } from './monitor-options';

/**
 * Registers Monitor in a tsyringe container (or any with
 * `register`/`resolve`/`isRegistered`), built once from TOKENS.Connection,
 * TOKENS.QueueConfig, and when registered TOKENS.Logger and
 * TOKENS.MonitorOptions. No `reflect-metadata` needed.
 */
export function registerMonitor<C extends Container>(c: C): C {
  registerOnce(c, Monitor, (r) => {
    const { connection, config, logger } = resolveCore(r);
    const settings = resolveOptional<MonitorSettings>(r, TOKENS.MonitorOptions, {});
    return new Monitor({ ...settings, queue: config.queue, prefix: config.prefix, connection, logger });
  });
  return c;
}
