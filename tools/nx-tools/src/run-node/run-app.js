'use strict';
const { spawn } = require('node:child_process');
const { join } = require('node:path');
const { RELAY_FD_ENV } = require('./relay');

const CTRL_C = 0x03;
/** Where the app's stdio array puts the relay pipe (see sentinel-preload.js). */
const RELAY_FD = 3;

/**
 * Runs `node <script> <args…>` under Nx and resolves with its exit code
 * (128 + n when a signal ended it) once the app has exited.
 *
 * The app must get each stop request exactly once: the worker reads a second
 * SIGINT/SIGTERM as "stop now", so a duplicate would cut its grace period
 * short. A stop reaches the app in one of three ways:
 *
 * 1. Ctrl-C on the pseudo-terminal Nx gives a task in an interactive terminal.
 *    Nx passes keystrokes through to it, and that terminal would signal the
 *    whole task (Nx's fork wrapper exits on SIGINT, and Nx with it, leaving
 *    the app behind). Here the terminal's signal keys are turned off (raw
 *    mode) and every Ctrl-C byte becomes one SIGINT to the app: the first
 *    asks for a graceful stop, a second one for an immediate one. Nx itself
 *    is not signalled, so the task ends when the app does, with its code.
 * 2. A signal to this process: without a pseudo-terminal it shares Nx's
 *    process group, so a terminal's Ctrl-C reaches it (and Nx) directly.
 *    Each one is passed on.
 * 3. Nx stopping the task (Nx got SIGINT, SIGTERM or SIGHUP): it signals every
 *    process of the task's tree, leaves first, and for a task without a
 *    pseudo-terminal it does so twice at once. The app is kept from being a
 *    leaf by its sentinel (sentinel.js), which reports over the relay pipe.
 *    That is passed on as SIGTERM only if nothing was before: a Ctrl-C of 2
 *    reaches Nx too, and its tree kill follows some milliseconds later.
 *
 * The app runs in its own process group so that no terminal signal reaches
 * it past this process. Nx's tree kill ends in SIGKILL after
 * NX_PROCESS_KILL_GRACE_PERIOD ms (5000 unless set; the workspace's .env sets
 * it): an app's graceful stop must fit in it.
 *
 * @param {{ script: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv }} options
 * @returns {Promise<number>}
 */
function runApp({ script, args, cwd, env = process.env }) {
  return new Promise((resolve) => {
    const app = spawn(process.execPath, ['--require', join(__dirname, 'sentinel-preload.js'), script, ...args], {
      cwd,
      env: { ...env, [RELAY_FD_ENV]: String(RELAY_FD) },
      stdio: ['ignore', 'inherit', 'inherit', 'pipe'],
      detached: true,
    });

    let passedOn = 0;
    /** @param {NodeJS.Signals} signal */
    const passOn = (signal) => {
      passedOn++;
      app.kill(signal);
    };
    /** @param {NodeJS.Signals} signal */
    const onSignal = (signal) => passOn(signal);
    const onRelay = () => {
      if (passedOn === 0) passOn('SIGTERM');
    };
    /** @param {Buffer} bytes */
    const onKeys = (bytes) => {
      for (const byte of bytes) if (byte === CTRL_C) passOn('SIGINT');
    };

    // Stays installed after the app has exited: Nx's tree kill signals this
    // process last, while it is still reporting the result.
    for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) process.on(signal, onSignal);
    const relay = /** @type {import('node:stream').Readable} */ (app.stdio[RELAY_FD]);
    relay.on('data', onRelay);
    relay.on('error', () => {}); // gone with the app

    const keys = process.stdin;
    const rawKeys = keys.isTTY === true && process.stdout.isTTY === true;
    if (rawKeys) {
      keys.setRawMode(true);
      keys.on('data', onKeys);
    }

    let done = false;
    /** @param {number} code */
    const finish = (code) => {
      if (done) return;
      done = true;
      if (rawKeys) {
        keys.off('data', onKeys);
        keys.setRawMode(false);
        keys.pause();
      }
      resolve(code);
    };
    app.on('error', (err) => {
      process.stderr.write(`cannot run ${script}: ${err.message}\n`);
      finish(1);
    });
    app.on('exit', (code, signal) => finish(code ?? 128 + signalNumber(signal)));
  });
}

/** @param {NodeJS.Signals | null} signal */
function signalNumber(signal) {
  return (signal && require('node:os').constants.signals[signal]) || 0;
}

module.exports = { runApp };
