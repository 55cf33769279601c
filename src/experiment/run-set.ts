import { runKey, type RunPlace } from './identity';

/**
 * A set of runs of one plan, a bit each: a folder of millions of runs, resumed, is held in some
 * hundreds of KB, where a Set of their keys would take some 60 bytes a run. Each iteration has a
 * bitmap over recording × input, `inputs` (the plan's count) to a recording; a run the plan could
 * not have made (an input past that count) is kept by its key instead.
 */
export class RunSet {
  private readonly bitmaps = new Map<number, Uint8Array>();
  private readonly others = new Set<string>();
  size = 0;

  constructor(private readonly inputs: number) {}

  add(run: RunPlace): void {
    const bit = this.bitOf(run);
    if (bit === undefined) {
      const key = runKey(run);
      if (!this.others.has(key)) this.size++;
      this.others.add(key);
      return;
    }
    let bitmap = this.bitmaps.get(run.iteration);
    const byte = bit >> 3;
    if (bitmap === undefined || byte >= bitmap.length) {
      // Doubled as it grows, so that a folder read in the plan's order is copied a few times only.
      const grown = new Uint8Array(Math.max(byte + 1, 2 * (bitmap?.length ?? 0), 64));
      if (bitmap !== undefined) grown.set(bitmap);
      this.bitmaps.set(run.iteration, (bitmap = grown));
    }
    const mask = 1 << (bit & 7);
    if ((bitmap[byte]! & mask) === 0) {
      bitmap[byte] = bitmap[byte]! | mask;
      this.size++;
    }
  }

  has(run: RunPlace): boolean {
    const bit = this.bitOf(run);
    if (bit === undefined) return this.others.has(runKey(run));
    const bitmap = this.bitmaps.get(run.iteration);
    return bitmap !== undefined && (bit >> 3) < bitmap.length && (bitmap[bit >> 3]! & (1 << (bit & 7))) !== 0;
  }

  /** The runs' keys ({@link runKey}): by iteration, then recording, then input. */
  *keys(): Generator<string> {
    for (const iteration of [...this.bitmaps.keys()].sort((a, b) => a - b)) {
      const bitmap = this.bitmaps.get(iteration)!;
      for (let bit = 0; bit < bitmap.length * 8; bit++) {
        if ((bitmap[bit >> 3]! & (1 << (bit & 7))) === 0) continue;
        const recording = Math.floor(bit / this.inputs) - 1;
        yield runKey({ iteration, recording_index: recording < 0 ? null : recording, input_index: bit % this.inputs });
      }
    }
    yield* this.others;
  }

  /** Its bit, 0 up: a run without a recording first, then each recording's inputs; undefined for a run this plan has no bit for. */
  private bitOf({ iteration, recording_index: recording, input_index: input }: RunPlace): number | undefined {
    const whole = (n: number) => Number.isSafeInteger(n) && n >= 0;
    if (!whole(iteration) || !whole(input) || input >= this.inputs || (recording !== null && !whole(recording))) return undefined;
    const bit = ((recording ?? -1) + 1) * this.inputs + input;
    // Past 2^31 bits a bitmap would take more than a Set of the runs the plan really made.
    return bit < 2 ** 31 ? bit : undefined;
  }
}
