#!/usr/bin/env node
// `npm test`: runs every project's jest tests through Nx, passing their output
// through, then closes with one line that totals the jest summaries:
// `tests: 173 passed, 0 failed` (plus `, N skipped` when there are any).
// Exits with Nx's exit code, or 1 if a jest summary reported failures or a
// jest run was held open by something a test left running (jest prints "Jest
// did not exit one second after the test run has completed").
import { spawn } from 'node:child_process';

const args = ['nx', 'run-many', '-t', 'test', '--output-style=static', ...process.argv.slice(2)];
const child = spawn('npx', args, { stdio: ['inherit', 'pipe', 'inherit'], env: { ...process.env, NX_DAEMON: 'false' } });

let passed = 0;
let failed = 0;
let skipped = 0;
let suites = 0;
let heldOpen = 0;
let carry = '';
// eslint-disable-next-line no-control-regex -- an ANSI colour code starts with ESC (\x1b)
const strip = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');
function scan(line) {
  if (strip(line).includes('Jest did not exit one second after the test run has completed')) heldOpen++;
  const m = /^Tests:\s+(.*)\d+ total/.exec(strip(line).trim());
  if (!m) return;
  suites++;
  for (const [, n, what] of m[1].matchAll(/(\d+) (passed|failed|skipped|todo)/g)) {
    if (what === 'passed') passed += Number(n);
    else if (what === 'failed') failed += Number(n);
    else skipped += Number(n);
  }
}
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  const text = carry + chunk.toString();
  const lines = text.split('\n');
  carry = lines.pop() ?? '';
  lines.forEach(scan);
});
child.on('close', (code) => {
  if (carry) scan(carry);
  const skippedText = skipped ? `, ${skipped} skipped` : '';
  const heldText = heldOpen ? `, ${heldOpen} jest run(s) held open after their tests (open handles)` : '';
  process.stdout.write(`\n(${suites} jest runs)\ntests: ${passed} passed, ${failed} failed${skippedText}${heldText}\n`);
  process.exit(code !== 0 ? code ?? 1 : failed > 0 || heldOpen > 0 ? 1 : 0);
});
