import type { BenchResult, NotApplicable, RunError } from './results';

/** Everything one bench run measured. */
export interface BenchOutcome {
  readonly results: BenchResult[];
  readonly errors: RunError[];
  /** Scenarios a system was not run in, and why (bee-queue's weighted: no priorities; its cluster: no Cluster support). */
  readonly notApplicable: NotApplicable[];
}

/** Where progress lines go (stderr by default); one line per run. */
export type Progress = (line: string) => void;

/** An error as a run's error text: `Name: message`. */
export const errorMessage = (err: unknown): string => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

/** A whole number with thousands separators: 50,000. */
export const formatInt = (v: number): string => Math.round(v).toLocaleString('en-US');
