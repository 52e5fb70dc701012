/** Keeps the last `maxChars` characters of a child's output, for error messages. */
export class OutputTail {
  private text = '';

  constructor(private readonly maxChars = 4000) {}

  push(chunk: Buffer | string): void {
    this.text += chunk.toString();
    if (this.text.length > this.maxChars * 2) this.text = this.text.slice(-this.maxChars);
  }

  /** Clears what was kept (a restarted server starts a fresh log). */
  reset(): void {
    this.text = '';
  }

  toString(): string {
    return this.text.slice(-this.maxChars).trimEnd();
  }
}
