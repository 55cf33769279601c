/**
 * A worker's lanes: `size` runs handed over at once, the jobs beyond them waiting here, in order,
 * for a lane. A job that waits here has not started, so a worker that drains can give it back.
 */
export class Slots {
  private free: number;
  private size: number;
  private readonly waiting: Array<(got: boolean) => void> = [];
  private closed = false;

  constructor(size: number) {
    this.size = this.free = size;
  }

  /** Resolves true with a lane taken, or false once the slots are closed (the job was never started). */
  take(): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (this.free > 0) {
      this.free--;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    this.free++;
    this.hand();
  }

  /** Makes it `size` lanes: more start waiting jobs now, fewer once enough runs end. */
  resize(size: number): void {
    this.free += size - this.size;
    this.size = size;
    this.hand();
  }

  /** No job takes a lane any more: those waiting for one get false. */
  close(): void {
    this.closed = true;
    for (const resolve of this.waiting.splice(0)) resolve(false);
  }

  private hand(): void {
    while (this.free > 0 && this.waiting.length > 0) {
      this.free--;
      this.waiting.shift()!(true);
    }
  }
}
