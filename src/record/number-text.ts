const NAN = '{"$type":"number","value":"NaN"}';
const INFINITY = '{"$type":"number","value":"Infinity"}';
const NEG_INFINITY = '{"$type":"number","value":"-Infinity"}';
const NEG_ZERO = '{"$type":"number","value":"-0"}';

// V8 turns a fraction into text several times slower than an integer, and the same fractions
// (temperatures, prices, scores) come back call after call.
const FRACTION_CACHE_LIMIT = 2048;
const fractionText = new Map<number, string>();

/** A number as the encoder writes it: JSON's text, or a tagged value for -0, NaN and the infinities. */
export function numberText(n: number): string {
  if ((n | 0) === n) return n === 0 && 1 / n < 0 ? NEG_ZERO : '' + n;
  if (n - n !== 0) return n !== n ? NAN : n > 0 ? INFINITY : NEG_INFINITY;
  let text = fractionText.get(n);
  if (text === undefined) {
    text = '' + n;
    if (fractionText.size >= FRACTION_CACHE_LIMIT) fractionText.clear();
    fractionText.set(n, text);
  }
  return text;
}


/** How many decimal digits a non-negative safe integer has. */
export function digitsOf(n: number): number {
  let digits = 1;
  for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  return digits;
}

/**
 * Writes a non-negative safe integer in decimal and returns where it ends; by hand, since a
 * native call costs more than its few digits.
 */
export function writeInteger(buffer: Buffer, at: number, n: number, digits = digitsOf(n)): number {
  const end = at + digits;
  for (let i = end - 1, rest = n; i >= at; i--, rest = Math.floor(rest / 10)) buffer[i] = 48 + (rest % 10);
  return end;
}
