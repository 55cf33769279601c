import fs from 'node:fs';
import { fileLines, JsonLines } from './output';

const traceIdOf = (line: string) => (JSON.parse(line) as { trace_id?: string }).trace_id;

/**
 * Drops, from observations.jsonl, the observations of runs whose line in traces.jsonl was never
 * written: they are made again. A run's observations are written just before its line, so the two
 * files hold the runs in one order, and the observations of a run without a line (its process was
 * killed between the two writes, or in the middle of its line) come last. So the observations are
 * walked beside the lines as they are read, holding nothing, and only those left when the lines
 * run out are looked up, in one more read of the lines: a resume of millions of runs keeps no set
 * of their ids. Observations in another order than the lines are kept all the same, only looked
 * up that way too.
 */
export class KeptObservations {
  private readonly temporary: string;
  private readonly observations: AsyncGenerator<string> | undefined;
  private out: JsonLines | undefined;
  /** The next observation not yet copied, with its run's id; null once they are all read. */
  private next: { line: string; traceId: string | undefined } | null | undefined;
  /** How many observations were read, the next one included. */
  private read = 0;

  constructor(private readonly file: string) {
    this.temporary = `${file}.${process.pid}.tmp`;
    if (!fs.existsSync(file)) return;
    fs.rmSync(this.temporary, { force: true });
    this.out = new JsonLines(this.temporary);
    this.observations = fileLines(file);
  }

  /** The next run whose line was written, in the lines' order: its observations are copied. */
  async written(traceId: string): Promise<void> {
    if (this.out === undefined) return;
    for (let o = await this.peek(); o !== null && (o.traceId === undefined || o.traceId === traceId); o = await this.peek()) {
      this.out.writeText(`${o.line}\n`);
      this.next = undefined;
    }
  }

  /**
   * Once every line is read: the observations left, those of the runs `traces` has a line for,
   * are copied, and the file replaced when any was dropped.
   */
  async finish(traces: string): Promise<void> {
    if (this.out === undefined) return;
    const copied = this.read - (this.next ? 1 : 0);
    const left = new Set<string>();
    for (let o = await this.peek(); o !== null; o = await this.peek()) {
      if (o.traceId !== undefined) left.add(o.traceId);
      this.next = undefined;
    }
    if (left.size === 0) return this.end(false);
    const found = new Set<string>();
    for await (const line of fileLines(traces)) {
      const traceId = traceIdOf(line);
      if (traceId !== undefined && left.has(traceId)) found.add(traceId);
    }
    let n = 0;
    for await (const line of fileLines(this.file)) {
      if (n++ < copied) continue;
      const traceId = traceIdOf(line);
      if (traceId === undefined || found.has(traceId)) this.out.writeText(`${line}\n`);
    }
    this.end(found.size < left.size);
  }

  /** Leaves the observations as they were. */
  abandon(): void {
    if (this.out === undefined) return;
    void this.observations?.return(undefined);
    this.end(false);
  }

  private async peek(): Promise<{ line: string; traceId: string | undefined } | null> {
    if (this.next !== undefined) return this.next;
    const { value, done } = await this.observations!.next();
    if (done) return (this.next = null);
    this.read++;
    return (this.next = { line: value, traceId: traceIdOf(value) });
  }

  private end(dropped: boolean): void {
    this.out!.close();
    this.out = undefined;
    if (dropped) fs.renameSync(this.temporary, this.file);
    else fs.rmSync(this.temporary, { force: true });
  }
}
