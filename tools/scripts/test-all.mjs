#!/usr/bin/env node
// `npm test`: runs every project's jest tests through Nx, passing their output
// through, then closes with one line that totals the jest summaries:
// `tests: 173 passed, 0 failed` (plus `, N skipped` when there are any).
// Exits with Nx's exit code, or 1 if a jest summary reported failures or a
// jest run was held open by something a test left running (jest prints "Jest
// did not exit one second after the test run has completed").
import { spawn } from 'node:child_process';
import { JestTotals } from './jest-totals.mjs';

const args = ['nx', 'run-many', '-t', 'test', '--output-style=static', ...process.argv.slice(2)];
const child = spawn('npx', args, { stdio: ['inherit', 'pipe', 'inherit'], env: { ...process.env, NX_DAEMON: 'false' } });

const totals = new JestTotals();
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  totals.add(chunk);
});
child.on('close', (code) => {
  totals.end();
  const { passed, failed, skipped, suites, heldOpen } = totals;
  const skippedText = skipped ? `, ${skipped} skipped` : '';
  const heldText = heldOpen ? `, ${heldOpen} jest run(s) held open after their tests (open handles)` : '';
  process.stdout.write(totals.failureSummary());
  process.stdout.write(`\n(${suites} jest runs)\ntests: ${passed} passed, ${failed} failed${skippedText}${heldText}\n`);
  process.exit(code !== 0 ? code ?? 1 : failed > 0 || heldOpen > 0 ? 1 : 0);
});
