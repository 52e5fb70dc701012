import { TaskqError } from '@taskq/recorder';

/** A flow that cannot be added (a bad step, a dependency on no step, a cycle, too many steps) or a bad flow id. Nothing was written. */
export class InvalidFlowError extends TaskqError {
  override readonly name = 'InvalidFlowError';

  constructor(message: string, options?: { cause?: unknown }) {
    super('TASKQ_INVALID_FLOW', message, options);
  }
}
