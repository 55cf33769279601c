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

