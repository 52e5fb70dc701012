import { TaskqError } from '@taskq/recorder';

/**
 * A request for a page of tasks (Queue.listTasks) that cannot be served: a
 * status that is not listed, a limit out of range, or a cursor that is not
 * one listTasks gave for that status. `field` names which (the API answers
 * 400 with it), and the message begins with that name (`cursor is not valid:
 * …`); nothing was read.
 */
export class InvalidListQueryError extends TaskqError {
  override readonly name = 'InvalidListQueryError';

  constructor(
    /** The input at fault: `status`, `limit` or `cursor`. */
    readonly field: 'status' | 'limit' | 'cursor',
    message: string,
  ) {
    super('TASKQ_INVALID_LIST_QUERY', message);
  }
}
