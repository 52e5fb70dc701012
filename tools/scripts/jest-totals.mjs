// Totals of the jest runs in an output stream, for the scripts that close with
// `tests: N passed, 0 failed` (test-all.mjs, test-cluster.mjs): each jest
// summary line (`Tests: 3 failed, 40 passed, 43 total`) is added up, and a
// run held open after its tests ("Jest did not exit one second after the test
// run has completed") is counted. Each failing test's report (jest's `● suite ›
// test` block, its first lines) is kept, so that the closing lines can name
// what failed: a CI log shown only by its tail still says which test it was.

// eslint-disable-next-line no-control-regex -- an ANSI colour code starts with ESC (\x1b)
const strip = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');

export class JestTotals {
  passed = 0;
  failed = 0;
  skipped = 0;
  /** jest summaries seen (one per jest run). */
  suites = 0;
  heldOpen = 0;
  /** The failing tests' reports: `FAIL <file>` then jest's `● …` line and the lines after it (at most FAILURE_LINES). */
  failures = [];
  #carry = '';
  #failFile = '';
  #seen = new Set();
  /** The report being read, while its lines are still coming. */
  #failure = undefined;

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

  #scan(raw) {
    const line = strip(raw);
    this.#scanFailure(line);
    if (line.includes('Jest did not exit one second after the test run has completed')) this.heldOpen++;
    const m = /^Tests:\s+(.*)\d+ total/.exec(line.trim());
    if (!m) return;
    this.suites++;
    for (const [, n, what] of m[1].matchAll(/(\d+) (passed|failed|skipped|todo)/g)) {
      if (what === 'passed') this.passed += Number(n);
      else if (what === 'failed') this.failed += Number(n);
      else this.skipped += Number(n);
    }
  }

  #scanFailure(line) {
    const file = /^\s*FAIL\s+(?:\S+\s+)?(\S+\.[cm]?[jt]sx?)\b/.exec(line);
    if (file) {
      this.#failFile = file[1];
      this.#failure = undefined;
      return;
    }
    if (/^\s*PASS\s/.test(line) || /^(Test Suites|Tests):/.test(line.trim())) {
      this.#failure = undefined;
      return;
    }
    const bullet = /^\s*● (.*)$/.exec(line);
    if (bullet) {
      const key = `${this.#failFile}\n${bullet[1]}`;
      // jest's closing "Summary of all failing tests" prints each report again: kept once
      const seen = bullet[1].startsWith('Console') || this.#seen.has(key);
      this.#failure = seen ? undefined : [`FAIL ${this.#failFile || '(file not seen)'}`, `  ● ${bullet[1]}`];
      if (this.#failure) {
        this.#seen.add(key);
        this.failures.push(this.#failure);
      }
      return;
    }
    if (this.#failure && this.#failure.length < FAILURE_LINES && line.trim()) this.#failure.push(line);
  }

  /** The closing lines that name the failing tests (empty when none failed). */
  failureSummary() {
    if (this.failures.length === 0) return '';
    const shown = this.failures.slice(0, MAX_FAILURES_SHOWN);
    const more = this.failures.length - shown.length;
    return `\nfailing tests (${this.failures.length}):\n${shown.map((f) => f.join('\n')).join('\n\n')}${more > 0 ? `\n… and ${more} more (see above)` : ''}\n`;
  }
}

/** Lines kept of each failing test's report (its message and the first lines of its stack or diff). */
const FAILURE_LINES = 24;
const MAX_FAILURES_SHOWN = 8;
