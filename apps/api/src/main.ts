import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { createLogger, EXIT, onShutdownSignals, openRedis, runMain, withConnectionOptions } from '@taskq/app-kit';
import { DEFAULT_KEY_PREFIX } from '@taskq/queue';
import { loadTokens, MIN_TOKEN_LENGTH, TOKEN_ENV, TokenConfigError } from './auth';
import { DEFAULT_MAX_BUFFERED_BYTES } from './events/stream';
import { buildServer } from './server';

const LOOPBACK = '127.0.0.1';

/** The API CLI: composition root of the API process. */
function parseArgs(argv: string[]) {
  return withConnectionOptions(
    yargs(argv)
      .scriptName('api')
      .usage(
        `$0 [options]\n\nServe taskq's REST API (and its OpenAPI document at /openapi.json). Bearer tokens: ${TOKEN_ENV.admin} and ${TOKEN_ENV.read} (comma-separated, at least ${MIN_TOKEN_LENGTH} characters each) or --tokens-file; without any token the API listens on ${LOOPBACK} only.`,
      )
      .option('port', { type: 'number', default: 8080, describe: 'port to listen on (0: any free port, logged)' })
      .option('host', {
        type: 'string',
        describe: `address to listen on (default 0.0.0.0 with tokens; without tokens only ${LOOPBACK} is allowed)`,
      })
      .option('tokens-file', { type: 'string', describe: 'file of "admin <token>" / "read <token>" lines' })
      .option('body-limit', { type: 'number', default: 1024 * 1024, describe: 'largest request body, bytes (413 beyond)' })
      .option('prefix', { type: 'string', default: DEFAULT_KEY_PREFIX, describe: 'key prefix of the queues (no braces)' })
      .option('events-buffer-limit', {
        type: 'number',
        default: DEFAULT_MAX_BUFFERED_BYTES,
        describe: 'GET /events: bytes a client that does not keep up may hold before its stream is closed (it resumes with Last-Event-ID)',
      }),
  )
    .check((a) => {
      if (!(Number.isInteger(a.port) && a.port >= 0 && a.port <= 65535)) throw new Error('--port must be a whole number from 0 to 65535');
      if (!(Number.isInteger(a['body-limit']) && a['body-limit'] >= 1024)) throw new Error('--body-limit must be a whole number >= 1024');
      if (!(Number.isInteger(a['events-buffer-limit']) && a['events-buffer-limit'] >= 1024)) throw new Error('--events-buffer-limit must be a whole number >= 1024');
      if (/[{}]/.test(a.prefix) || a.prefix === '') throw new Error(`--prefix must be non-empty and have no braces, got ${JSON.stringify(a.prefix)}`);
      return true;
    })
    .parseSync();
}

runMain(async () => {
  const args = parseArgs(hideBin(process.argv));
  const logger = createLogger({ name: 'api', level: args['log-level'] });
  let tokens;
  try {
    tokens = loadTokens(process.env, args['tokens-file']);
  } catch (err) {
    if (!(err instanceof TokenConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return EXIT.usage;
  }
  let host = args.host;
  if (!tokens.configured) {
    if (host !== undefined && host !== LOOPBACK && host !== 'localhost') {
      process.stderr.write(`no API token is configured: refusing to listen on ${host}; set ${TOKEN_ENV.admin} (and ${TOKEN_ENV.read}) or --tokens-file, or listen on ${LOOPBACK}\n`);
      return EXIT.usage;
    }
    host = LOOPBACK;
    logger.warn(`no API token configured (${TOKEN_ENV.admin}, ${TOKEN_ENV.read} or --tokens-file): every request is allowed, so the API listens on ${LOOPBACK} only`);
  }
  host ??= '0.0.0.0';
  const conn = await openRedis({ url: args.redis, connectTimeoutMs: args['connect-timeout-ms'], logger, name: `taskq-api-${process.pid}` });
  logger.info({ redis: conn.address }, `connected to ${conn.address}`);
  const app = await buildServer({
    redis: conn.redis,
    tokens,
    logger,
    bodyLimit: args['body-limit'],
    prefix: args.prefix,
    events: { maxBufferedBytes: args['events-buffer-limit'] },
  });
  const stopped = new Promise<void>((resolve) => {
    onShutdownSignals(
      (signal) => {
        logger.info({ signal }, `${signal}: stopping`);
        resolve();
      },
      () => process.exit(EXIT.failure),
    );
  });
  await app.listen({ port: args.port, host });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : args.port;
  logger.info({ host, port, auth: tokens.configured }, `API on http://${host}:${port} (OpenAPI document: /openapi.json)`);
  await stopped;
  await app.close();
  await conn.close();
  logger.info('stopped');
  return EXIT.ok;
});
