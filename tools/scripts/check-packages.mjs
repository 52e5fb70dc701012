#!/usr/bin/env node
// `npm run check:packages`: the four publishable libraries as a user gets them.
//
//  1. builds them and `npm pack`s each into a temporary directory;
//  2. publint (strict: warnings fail too) and attw on each tarball;
//  3. for ioredis 5 and for ioredis 6, an empty project outside the repository
//     (os.tmpdir()) installs the four tarballs, that ioredis, typescript and
//     @types/node (the repository's versions), tsyringe and reflect-metadata
//     (some README blocks use them), then:
//     - loads each library with plain node, require() and ESM import, without
//       reflect-metadata: every export of require() is a named ESM export too;
//     - compiles every ```ts block of README.md and libs/*/README.md, each its
//       own file, with tsc (strict, nodenext, "type": "module", skipLibCheck
//       off); an error is reported as README file and line;
//     - runs the root README's first Libraries example against a redis-server
//       this script starts on a free port: it must print `<id> is Done`, then
//       exit by itself with code 0 within 5 s of SIGTERM; every other block
//       that reads process.env.REDIS_URL runs too and must exit 0 by itself.
// One line per check (`ok` or `FAIL`), then a total; exits 1 on any failure.
// `--keep` keeps the temporary directory and prints where it is.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fileNameOf, readmeBlocks, readmeLineOf, sourceOf } from './readme-blocks.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);

/** The publishable libraries, in dependency order, and a few runtime exports each must have. */
const LIBRARIES = [
  { name: '@taskq/recorder', dir: 'libs/recorder', expects: ['StatusRecorder', 'TaskqError', 'RECORD_LUA', 'FINAL_STATUSES'] },
  { name: '@taskq/queue', dir: 'libs/queue', expects: ['Queue', 'Consumer', 'Janitor', 'registerQueue', 'TOKENS'] },
  { name: '@taskq/monitor', dir: 'libs/monitor', expects: ['Monitor', 'registerMonitor', 'MonitorTimeoutError'] },
  { name: '@taskq/worker-pool', dir: 'libs/worker-pool', expects: ['WorkerPool', 'registerWorkerPool', 'UnrecoverableError'] },
];
/** ioredis is the users' own copy (a peer dependency): both majors the range allows. */
const IOREDIS_SPECS = ['ioredis@^5', 'ioredis@^6'];
const RUN_DONE_TIMEOUT_MS = 30_000;
const RUN_EXIT_TIMEOUT_MS = 5_000;

const rootPkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const pinned = (name) => `${name}@${rootPkg.devDependencies?.[name] ?? rootPkg.dependencies?.[name]}`;
/** What the temporary projects install besides the tarballs and ioredis: the versions the repository itself is checked with. */
const TOOLING = [pinned('typescript'), pinned('@types/node'), pinned('tsyringe'), pinned('reflect-metadata')];

const keep = process.argv.includes('--keep');
const started = performance.now();
const results = [];
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
const took = (ms) => (ms >= 100 ? ` (${seconds(ms)})` : '');

/**
 * Runs one check: `fn` returns a detail for the summary line or throws. The
 * line is `ok    <name> — <detail> (time)` or `FAIL  <name> (time)` and the reason.
 */
async function check(name, fn) {
  const t0 = performance.now();
  try {
    const detail = await fn();
    results.push({ name, ok: true });
    console.log(`ok    ${name}${detail ? ` — ${detail}` : ''}${took(performance.now() - t0)}`);
    return true;
  } catch (err) {
    results.push({ name, ok: false });
    console.log(`FAIL  ${name}${took(performance.now() - t0)}`);
    console.log(indent(err instanceof Error ? err.message : String(err)));
    return false;
  }
}

const indent = (text) => text.trimEnd().split('\n').map((l) => `      ${l}`).join('\n');

/** Runs a command; resolves with its exit code, its stdout, and its output (stdout and stderr as they came). */
function exec(cmd, args, { cwd = ROOT, env = {} } = {}) {
  return new Promise((resolveExec, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, NX_DAEMON: 'false', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let out = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      out += d;
    });
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolveExec({ code, signal, stdout, out }));
  });
}

/** As exec, but a non-zero exit is an error that carries the output; resolves with stdout. */
async function execOk(cmd, args, options) {
  const r = await exec(cmd, args, options);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.code ?? r.signal}\n${r.out}`);
  return r.stdout;
}

const work = mkdtempSync(join(tmpdir(), 'taskq-check-packages-'));
let redisServer;
try {
  await main();
} finally {
  await redisServer?.stop();
  if (keep) console.log(`(kept ${work})`);
  else rmSync(work, { recursive: true, force: true });
}
const failed = results.filter((r) => !r.ok).length;
console.log(`\ncheck:packages: ${results.length - failed} passed, ${failed} failed (${seconds(performance.now() - started)})`);
process.exit(failed > 0 ? 1 : 0);

async function main() {
  const built = await check('build the libraries (nx run-many -t build)', async () => {
    const projects = [...LIBRARIES.map((l) => l.name), '@taskq/redis-harness'];
    await execOk('npx', ['nx', 'run-many', '-t', 'build', `--projects=${projects.join(',')}`, '--output-style=static']);
    return projects.join(', ');
  });
  if (!built) return;

  const tarballs = new Map();
  const packed = await check('npm pack the four libraries', async () => {
    const dest = join(work, 'tarballs');
    mkdirSync(dest);
    const out = await execOk('npm', ['pack', '--json', '--pack-destination', dest, ...LIBRARIES.flatMap((l) => ['-w', l.dir])]);
    const packs = JSON.parse(out);
    const details = [];
    for (const lib of LIBRARIES) {
      const pack = packs.find((p) => p.name === lib.name);
      if (!pack) throw new Error(`npm pack made no tarball for ${lib.name}`);
      const unwanted = pack.files.map((f) => f.path).filter((p) => /\.test\.ts$|(^|\/)test-support\/|\.tsbuildinfo$/.test(p));
      if (unwanted.length) throw new Error(`${lib.name} would publish test files: ${unwanted.join(', ')}`);
      tarballs.set(lib.name, join(dest, pack.filename));
      details.push(`${pack.filename} (${pack.entryCount} files, ${(pack.size / 1024).toFixed(0)} kB)`);
    }
    return details.join(', ');
  });
  if (!packed) return;

  const { publint } = await import('publint');
  const { formatMessage } = await import('publint/utils');
  // attw's own engine (the one its CLI runs, loaded once rather than once per package)
  const attwCli = createRequire(require.resolve('@arethetypeswrong/cli/package.json'));
  const attw = await import(pathToFileURL(attwCli.resolve('@arethetypeswrong/core')).href);
  for (const lib of LIBRARIES) {
    const tarball = tarballs.get(lib.name);
    await check(`publint --strict ${lib.name}`, async () => {
      const data = readFileSync(tarball);
      const { messages, pkg } = await publint({ pack: { tarball: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) }, strict: true });
      const text = (m) => `${m.type}: ${formatMessage(m, pkg, { color: false })}`;
      const problems = messages.filter((m) => m.type !== 'suggestion');
      if (problems.length) throw new Error(problems.map(text).join('\n'));
      return messages.length ? messages.map(text).join('; ') : 'no messages';
    });
    await check(`attw ${lib.name}`, async () => {
      const analysis = await attw.checkPackage(attw.createPackageFromTarballData(new Uint8Array(readFileSync(tarball))));
      if (!analysis.types) throw new Error('attw finds no types in the package');
      // the CLI's default ("strict") profile: every problem counts, for every resolution mode
      if (analysis.problems.length) {
        const table = await exec(join(ROOT, 'node_modules/.bin/attw'), [tarball, '--format', 'ascii', '--no-color']);
        throw new Error(`attw found ${analysis.problems.length} problem(s): ${analysis.problems.map((p) => p.kind).join(', ')}\n${table.out}`);
      }
      const entrypoints = Object.entries(analysis.entrypoints);
      const modes = [...new Set(entrypoints.flatMap(([, e]) => Object.keys(e.resolutions)))];
      return `no problems: entrypoints ${entrypoints.map(([name]) => name).join(', ')} under ${modes.join(', ')}`;
    });
  }

  await check('tsc --strict the ts blocks of the workspace-only READMEs (tools/*, apps/*), against the workspace', () => checkWorkspaceBlocks());

  const blocks = collectBlocks();
  const runBlock = blocks.find((b) => b.readme === 'README.md' && b.section === 'Libraries');
  // Other blocks that take their server from REDIS_URL run too (those with a fixed address would reach the shared Redis).
  const alsoRun = blocks.filter((b) => b !== runBlock && /process\.env\.REDIS_URL/.test(b.code));
  await check('README ts blocks found', async () => {
    if (blocks.length === 0) throw new Error('no ```ts block in README.md or libs/*/README.md');
    if (!runBlock) throw new Error('README.md has no ```ts block under "## Libraries" (the example this check runs)');
    const readmes = [...new Set(blocks.map((b) => b.readme))];
    const run = [runBlock, ...alsoRun].map((b) => `${b.readme}:${b.line}`).join(', ');
    return `${blocks.length} blocks in ${readmes.join(', ')}; run: ${run}`;
  });
  if (!runBlock) return;

  const harness = require(join(ROOT, 'tools/redis-harness/dist/index.js'));
  const serverUp = await check('redis-server on a free port', async () => {
    redisServer = await harness.startRedisServer();
    return redisServer.url;
  });
  if (!serverUp) return;

  for (const spec of IOREDIS_SPECS) {
    await checkWithIoredis(spec, [...tarballs.values()], blocks, runBlock, alsoRun);
  }
}

/**
 * The READMEs of what is not published (tools/*, apps/*) document workspace
 * packages (the redis harness): their blocks compile against the workspace's
 * sources, in a folder under the repository's tmp/ (git-ignored).
 */
async function checkWorkspaceBlocks() {
  const readmes = ['tools', 'apps'].flatMap((top) =>
    readdirSync(join(ROOT, top))
      .map((d) => `${top}/${d}/README.md`)
      .filter((p) => existsSync(join(ROOT, p))),
  );
  const blocks = readmes.flatMap((readme) => readmeBlocks(join(ROOT, readme), readme));
  if (blocks.length === 0) return 'no ts blocks';
  const dir = join(ROOT, 'tmp', 'readme-blocks-workspace');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  try {
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
    const tsconfig = {
      extends: '../../tsconfig.base.json',
      compilerOptions: { noEmit: true, composite: false, declaration: false, declarationMap: false, skipLibCheck: false, types: ['node'] },
      include: ['*.ts'],
    };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
    for (const block of blocks) writeFileSync(join(dir, fileNameOf(block)), sourceOf(block));
    const r = await exec(join(ROOT, 'node_modules/.bin/tsc'), ['-p', join(dir, 'tsconfig.json'), '--pretty', 'false']);
    if (r.code !== 0) {
      const byFile = new Map(blocks.map((b) => [fileNameOf(b), b]));
      const lines = tscErrors(r.stdout).map((e) => {
        const block = byFile.get(e.file.split('/').pop());
        return block ? `${block.readme}:${readmeLineOf(block, e.line)}:${e.col}: ${e.text}` : `${e.file}(${e.line},${e.col}): ${e.text}`;
      });
      throw new Error(lines.join('\n') || r.out);
    }
    return `${blocks.length} block(s): ${blocks.map((b) => `${b.readme}:${b.line}`).join(', ')}`;
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

/** The blocks of README.md and of each libs/<lib>/README.md. */
function collectBlocks() {
  const readmes = ['README.md', ...readdirSync(join(ROOT, 'libs')).map((d) => `libs/${d}/README.md`).filter((p) => existsSync(join(ROOT, p)))];
  return readmes.flatMap((readme) => readmeBlocks(join(ROOT, readme), readme));
}

/** Installs the tarballs with one ioredis major in a fresh project and checks loading, compiling and running there. */
async function checkWithIoredis(spec, tarballPaths, blocks, runBlock, alsoRun) {
  const project = join(work, `project-${spec.replace(/[^a-z0-9]+/gi, '-')}`);
  mkdirSync(join(project, 'docs'), { recursive: true });
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'taskq-docs-check', private: true, type: 'module' }, null, 2));
  let version = spec;
  const installed = await check(`npm install (${spec})`, async () => {
    await execOk('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...tarballPaths, spec, ...TOOLING], { cwd: project });
    version = `ioredis ${JSON.parse(readFileSync(join(project, 'node_modules/ioredis/package.json'), 'utf8')).version}`;
    return `${version}, ${TOOLING.join(', ')}`;
  });
  if (!installed) return;

  await check(`require() each library, plain node, no reflect-metadata (${version})`, () => importCheck(project, 'cjs'));
  await check(`import {…} each library, plain node, no reflect-metadata (${version})`, () => importCheck(project, 'mjs'));

  // Every block its own module; tsc checks them all at once and emits the JS the run below uses.
  for (const block of blocks) writeFileSync(join(project, 'docs', fileNameOf(block)), sourceOf(block));
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify(
      {
        compilerOptions: {
          strict: true,
          module: 'nodenext',
          moduleResolution: 'nodenext',
          moduleDetection: 'force',
          target: 'es2022',
          lib: ['es2022'],
          types: ['node'],
          skipLibCheck: false,
          rootDir: 'docs',
          outDir: 'out',
        },
        include: ['docs/*.ts'],
      },
      null,
      2,
    ),
  );
  // What ioredis's own declarations give without taskq (e.g. ioredis 6.1.0's
  // d.ts import the untyped 'redis-errors'): the same error in a user's
  // project that never imports taskq is ioredis's, reported but not failed.
  mkdirSync(join(project, 'baseline'), { recursive: true });
  writeFileSync(join(project, 'baseline', 'ioredis-only.ts'), "import { Redis } from 'ioredis';\nexport const client: Redis | undefined = undefined;\n");
  const baselineConfig = JSON.parse(readFileSync(join(project, 'tsconfig.json'), 'utf8'));
  writeFileSync(
    join(project, 'tsconfig.baseline.json'),
    JSON.stringify({ compilerOptions: { ...baselineConfig.compilerOptions, rootDir: 'baseline', noEmit: true, outDir: undefined }, include: ['baseline/*.ts'] }, null, 2),
  );
  const baseline = tscErrors((await exec('node', [join(project, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.baseline.json', '--pretty', 'false'], { cwd: project })).out);
  const isBaseline = (e) => e.file.startsWith('node_modules/ioredis/') && baseline.some((b) => b.file === e.file && b.line === e.line && b.col === e.col && b.text === e.text);
  let errors = [];
  await check(`tsc --strict, ${blocks.length} README blocks, skipLibCheck off: no errors outside the blocks (${version})`, async () => {
    const tsc = await exec('node', [join(project, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--pretty', 'false'], { cwd: project });
    errors = tscErrors(tsc.out);
    const theirs = errors.filter(isBaseline);
    const unplaced = errors.filter((e) => !isBaseline(e) && !blocks.some((b) => e.file === `docs/${fileNameOf(b)}`));
    if (unplaced.length) throw new Error(unplaced.map((e) => `${e.file}(${e.line},${e.col}): ${e.text}`).join('\n'));
    if (tsc.code !== 0 && errors.length === theirs.length) {
      if (theirs.length === 0) throw new Error(`tsc exited with ${tsc.code}\n${tsc.out}`);
    }
    const note = theirs.length
      ? `; ${theirs.length} error(s) in ${version}'s own declarations, which a project importing only ioredis gets too: ${[...new Set(theirs.map((e) => e.text.split('\n')[0]))].join(' | ')}`
      : '';
    return `the declarations of the libraries, ${version}, tsyringe and @types/node checked too${note}`;
  });
  for (const block of blocks) {
    await check(`tsc --strict ${block.readme}:${block.line} (${version})`, async () => {
      const mine = errors.filter((e) => e.file === `docs/${fileNameOf(block)}`);
      if (mine.length) throw new Error(mine.map((e) => `${block.readme}:${readmeLineOf(block, e.line)}:${e.col} ${e.text}`).join('\n'));
      return block.prelude ? `with its prelude (README line ${block.preludeLine})` : '';
    });
  }

  const jsOf = (block) => join(project, 'out', fileNameOf(block).replace(/\.ts$/, '.js'));
  await check(`run ${runBlock.readme}:${runBlock.line}, then SIGTERM (${version})`, () => runExample(jsOf(runBlock), project));
  for (const block of alsoRun) {
    await check(`run ${block.readme}:${block.line}: exits 0 by itself (${version})`, () => runToEnd(jsOf(block), project));
  }
}

/** Errors of `tsc --pretty false`: `file(line,col): error TSnnnn: text`, with their indented continuation lines. */
function tscErrors(out) {
  const errors = [];
  for (const line of out.split('\n')) {
    const m = /^(.+?)\((\d+),(\d+)\): error (TS\d+: .*)$/.exec(line);
    if (m) errors.push({ file: m[1].replace(/\\/g, '/'), line: Number(m[2]), col: Number(m[3]), text: m[4] });
    else if (line.trim() && errors.length) errors[errors.length - 1].text += `\n${line}`;
  }
  return errors;
}

/**
 * Loads every library in a fresh node process, as CommonJS (require) or as
 * ESM (import of the named exports), in a process that never loaded
 * reflect-metadata. The libraries must load, export at least `expects`, and,
 * through ESM, every name require() gives; neither reflect-metadata nor
 * tsyringe may have been loaded by them.
 */
async function importCheck(project, format) {
  const names = LIBRARIES.map((l) => l.name);
  const expects = Object.fromEntries(LIBRARIES.map((l) => [l.name, l.expects]));
  const common = `
const names = ${JSON.stringify(names)};
const expects = ${JSON.stringify(expects)};
function verify(exported, cjsKeys) {
  const problems = [];
  for (const name of names) {
    const missing = expects[name].filter((k) => exported[name][k] === undefined);
    if (missing.length) problems.push(name + ' lacks ' + missing.join(', '));
    if (cjsKeys) {
      const notNamed = cjsKeys[name].filter((k) => !(k in exported[name]));
      if (notNamed.length) problems.push(name + ': require() has ' + notNamed.join(', ') + ' but import {…} does not');
    }
  }
  if (typeof Reflect.getMetadata !== 'undefined') problems.push('Reflect.getMetadata exists: something loaded reflect-metadata');
  const cached = Object.keys(requireFn.cache);
  // the module cache must show the libraries themselves, or it would not show reflect-metadata either
  if (!cached.some((f) => /node_modules[\\\\/]@taskq[\\\\/]worker-pool[\\\\/]/.test(f))) problems.push('the module cache does not list the libraries: cannot tell what they loaded');
  const loaded = cached.filter((f) => /node_modules[\\\\/](reflect-metadata|tsyringe)[\\\\/]/.test(f));
  if (loaded.length) problems.push('loaded: ' + loaded.join(', '));
  if (problems.length) { console.error(problems.join('\\n')); process.exit(1); }
  console.log(names.map((n) => n + ' ' + Object.keys(exported[n]).filter((k) => !['default', 'module.exports', '__esModule'].includes(k)).length).join(', '));
}
`;
  const source =
    format === 'cjs'
      ? `'use strict';\nconst requireFn = require;\n${common}\nconst exported = {};\nfor (const n of names) exported[n] = require(n);\nverify(exported);\n`
      : `import { createRequire } from 'node:module';\nconst requireFn = createRequire(import.meta.url);\n${common}\n` +
        // the CJS view, in a child process so that this one stays ESM-only until its own imports
        `import { execFileSync } from 'node:child_process';\n` +
        `const cjsKeys = JSON.parse(execFileSync(process.execPath, ['-e', 'const n = ' + JSON.stringify(names) + '; console.log(JSON.stringify(Object.fromEntries(n.map((x) => [x, Object.keys(require(x))]))))'], { encoding: 'utf8' }));\n` +
        `const exported = {};\nfor (const n of names) exported[n] = await import(n);\nverify(exported, cjsKeys);\n`;
  const file = join(project, `import-check.${format}`);
  writeFileSync(file, source);
  const r = await exec('node', [file], { cwd: project });
  if (r.code !== 0) throw new Error(r.out);
  return `exports: ${r.out.trim()}`;
}

/**
 * Runs the compiled example with REDIS_URL set to this script's redis-server.
 * It must print `<id> is Done`; then SIGTERM, and it must exit with code 0 by
 * itself within RUN_EXIT_TIMEOUT_MS (every connection, timer and thread released).
 */
function runExample(js, cwd) {
  return new Promise((resolveRun, rejectRun) => {
    const child = spawn('node', [js], { cwd, env: { ...process.env, REDIS_URL: redisServer.url }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let doneLine;
    let termAt = 0;
    let timer;
    const output = () => `stdout:\n${stdout || '(nothing)'}\nstderr:\n${stderr || '(nothing)'}`;
    const fail = (why) => {
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      rejectRun(new Error(`${why}\n${output()}`));
    };
    timer = setTimeout(() => fail(`no "<id> is Done" line within ${RUN_DONE_TIMEOUT_MS / 1000} s`), RUN_DONE_TIMEOUT_MS);
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => {
      stdout += d;
      if (doneLine !== undefined) return;
      const m = /^(\S+) is (\S+)$/m.exec(stdout);
      if (!m) return;
      doneLine = m[0];
      if (m[2] !== 'Done') return fail(`the task ended ${m[2]}, not Done`);
      clearTimeout(timer);
      termAt = performance.now();
      child.kill('SIGTERM');
      timer = setTimeout(() => fail(`still running ${RUN_EXIT_TIMEOUT_MS / 1000} s after SIGTERM: something it opened was not released`), RUN_EXIT_TIMEOUT_MS);
    });
    child.on('error', (err) => fail(`could not start node: ${err.message}`));
    child.on('close', (code, signal) => {
      if (doneLine === undefined) return fail(`exited (${code ?? signal}) before printing "<id> is Done"`);
      if (!termAt) return; // the FAIL for a status other than Done is out already
      clearTimeout(timer);
      if (code !== 0) return rejectRun(new Error(`exited with ${code ?? signal} after SIGTERM, not 0\n${output()}`));
      const note = stderr.trim() ? `; stderr: ${stderr.trim()}` : '';
      resolveRun(`printed "${doneLine}", exited 0 ${Math.round(performance.now() - termAt)} ms after SIGTERM${note}`);
    });
  });
}

/** Runs a compiled block with REDIS_URL set to this script's redis-server: it must exit with code 0 by itself within RUN_DONE_TIMEOUT_MS. */
function runToEnd(js, cwd) {
  return new Promise((resolveRun, rejectRun) => {
    const t0 = performance.now();
    const child = spawn('node', [js], { cwd, env: { ...process.env, REDIS_URL: redisServer.url }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rejectRun(new Error(`still running after ${RUN_DONE_TIMEOUT_MS / 1000} s: something it opened was not released\n${out}`));
    }, RUN_DONE_TIMEOUT_MS);
    child.on('error', (err) => rejectRun(new Error(`could not start node: ${err.message}`)));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) return rejectRun(new Error(`exited with ${code ?? signal}\n${out}`));
      resolveRun(`exited 0 after ${Math.round(performance.now() - t0)} ms${out.trim() ? `; output: ${out.trim()}` : ''}`);
    });
  });
}
