// Child process for exit-guard tests: starts a server with the harness (from
// its TypeScript source), prints {pid, port, dir}, then ends without stop():
//   node start-and-exit.cjs natural   -> the event loop simply runs empty
//   node start-and-exit.cjs throw     -> an uncaught error ends the process
const { readFileSync } = require('node:fs');
const ts = require('typescript');

require.extensions['.ts'] = (module, filename) => {
  const { outputText } = ts.transpileModule(readFileSync(filename, 'utf8'), {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
  });
  module._compile(outputText, filename);
};

const { startRedisServer } = require('../redis-server.ts');

startRedisServer().then((server) => {
  process.stdout.write(`${JSON.stringify({ pid: server.pid, port: server.port, dir: server.dir })}\n`);
  if (process.argv[2] === 'throw') throw new Error('deliberate crash');
});
