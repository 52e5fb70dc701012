// Totals of the jest runs in an output stream, for the scripts that close with
// `tests: N passed, 0 failed` (test-all.mjs, test-cluster.mjs): each jest
// summary line (`Tests: 3 failed, 40 passed, 43 total`) is added up, and a
// run held open after its tests ("Jest did not exit one second after the test
// run has completed") is counted.

// eslint-disable-next-line no-control-regex -- an ANSI colour code starts with ESC (\x1b)
const strip = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');

export class JestTotals {
  passed = 0;
  failed = 0;
  skipped = 0;
  /** jest summaries seen (one per jest run). */
  suites = 0;
  heldOpen = 0;
  #carry = '';

  /** Reads a chunk of output (lines may be split across chunks). */
  add(chunk) {
    const lines = (this.#carry + chunk.toString()).split('\n');
    this.#carry = lines.pop() ?? '';
    lines.forEach((line) => this.#scan(line));
  }

  /** Reads what is left of an unfinished last line. */
  end() {
    if (this.#carry) this.#scan(this.#carry);
    this.#carry = '';
  }

  #scan(line) {
    if (strip(line).includes('Jest did not exit one second after the test run has completed')) this.heldOpen++;
    const m = /^Tests:\s+(.*)\d+ total/.exec(strip(line).trim());
    if (!m) return;
    this.suites++;
    for (const [, n, what] of m[1].matchAll(/(\d+) (passed|failed|skipped|todo)/g)) {
      if (what === 'passed') this.passed += Number(n);
      else if (what === 'failed') this.failed += Number(n);
      else this.skipped += Number(n);
    }
  }
}
