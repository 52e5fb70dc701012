/** The reason a handler's signal fires when its task is cancelled. */
export class TaskCancelledError extends Error {
  override readonly name = 'TaskCancelledError';
  constructor(readonly taskId: string) {
    super(`task ${taskId} was cancelled`);
  }
}
