'use strict';
const { join } = require('node:path');
const { runApp } = require('./run-app');
const { splitArgs } = require('./split-args');

/**
 * `@taskq/nx-tools:run-node`: runs `node <script> <args…>` in the project's
 * folder, with `--args` split like a shell would, and succeeds when the app
 * exits 0. See run-app.js for what happens on Ctrl-C and when Nx stops it.
 *
 * @param {{ script: string, args?: string | number }} options
 * @param {import('nx/src/devkit-exports').ExecutorContext} context
 * @returns {Promise<{ success: boolean }>}
 */
async function runNode(options, context) {
  const project = context.projectName && context.projectsConfigurations.projects[context.projectName];
  if (!project) throw new Error('run-node: no project in the executor context');
  let args;
  try {
    // Nx's parser reads `--args=4` as the number 4.
    args = splitArgs(options.args === undefined ? '' : String(options.args));
  } catch (err) {
    process.stderr.write(`${context.projectName}:${context.targetName}: --args: ${err instanceof Error ? err.message : String(err)}\n`);
    return { success: false };
  }
  const code = await runApp({ script: options.script, args, cwd: join(context.root, project.root) });
  return { success: code === 0 };
}

module.exports = runNode;
