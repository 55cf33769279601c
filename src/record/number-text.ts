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
  while (digits < POWERS_OF_TEN.length && n >= POWERS_OF_TEN[digits]!) digits++;
  return digits;
}

const POWERS_OF_TEN = Array.from({ length: 16 }, (_, i) => 10 ** i);

/**
 * Writes a non-negative safe integer in decimal and returns where it ends; by hand, since a
 * native call costs more than its few digits.
 */
export function writeInteger(buffer: Buffer, at: number, n: number, digits = digitsOf(n)): number {
  const end = at + digits;
  // Past 32 bits (a timestamp in milliseconds), in two halves of 32-bit arithmetic: a division of a double costs several of an integer.
  let low = n;
  let i = end - 1;
  if (n > 0x7fffffff) {
    const high = Math.floor(n / 1e8);
    low = n - high * 1e8;
    for (let k = 0; k < 8; k++, low = (low / 10) | 0) buffer[i--] = 48 + (low % 10);
    low = high;
  }
  for (; i >= at; i--, low = (low / 10) | 0) buffer[i] = 48 + (low % 10);
  return end;
}
