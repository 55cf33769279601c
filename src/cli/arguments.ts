import { InvalidArgumentError } from 'commander';

/** A commander parser for an integer option of at least `min` (0 or 1), with a message that says which. */
export function integerAtLeast(min: 0 | 1): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(min === 0 ? 'must be 0 or a positive integer' : 'must be a positive integer');
    return n;
  };
}

/** A commander parser for a number above 0 (an amount of money, a duration), decimals allowed. */
export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a number above 0');
  return n;
}
