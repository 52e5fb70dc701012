import { TaskqError } from './taskq-error';

/** A stored or published text that is not a taskq status record. */
export class InvalidStatusRecordError extends TaskqError {
  override readonly name = 'InvalidStatusRecordError';

  constructor(raw: string, options?: { cause?: unknown }) {
    super('TASKQ_INVALID_STATUS_RECORD', `not a taskq status record: ${raw.slice(0, 200)}`, options);
  }
}
