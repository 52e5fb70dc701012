import { TaskqError } from '@taskq/recorder';

/**
 * A command on a connection its owner closed (`queue.close()`, `pool.stop()`,
 * `monitor.stop()`): taskq does not silently open it again. An object that
 * shares another's connection stops working when that owner closes it.
 */
export class ConnectionClosedError extends TaskqError {
  override readonly name = 'ConnectionClosedError';

  constructor(readonly address: string) {
    super('TASKQ_CONNECTION_CLOSED', `the connection to ${address} was closed by its owner; open a new one (or start its owner again)`);
  }
}
