/** A failure the CLI reports as `error: <message>` on stderr, exiting with `code` (CLI_EXIT). */
export class CliError extends Error {
  override readonly name = 'CliError';

  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}
