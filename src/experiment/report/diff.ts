/**
 * A piece of a word diff: `-1` only in the old text, `0` in both, `1` only in the new text.
 * The old text is the pieces of op -1 and 0 in order; the new text those of op 0 and 1.
 */
export type DiffPiece = [op: -1 | 0 | 1, text: string];

/** Past this many cells (old words × new words) the middle is shown as replaced whole: memory and time stay bounded. */
const MAX_CELLS = 400_000;

/**
 * The word-level differences of two texts: the longest common subsequence of their words and
 * spaces, after their common start and end. Written here rather than taken from a package: the
 * report needs only this (a regression's output beside the baseline's), the `diff` package would
 * be a dependency for one function, and no diff library is among fluxloop's dependencies.
 */
export function wordDiff(before: string, after: string): DiffPiece[] {
  const a = tokens(before);
  const b = tokens(after);
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const pieces: DiffPiece[] = [];
  const push = (op: -1 | 0 | 1, text: string) => {
    if (text === '') return;
    const last = pieces[pieces.length - 1];
    if (last && last[0] === op) last[1] += text;
    else pieces.push([op, text]);
  };
  push(0, a.slice(0, start).join(''));
  const n = endA - start;
  const m = endB - start;
  if (n * m > MAX_CELLS) {
    push(-1, a.slice(start, endA).join(''));
    push(1, b.slice(start, endB).join(''));
  } else {
    // lcs[i * (m + 1) + j]: the longest common subsequence of the middles' tails from i and j.
    const lcs = new Uint32Array((n + 1) * (m + 1));
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i * (m + 1) + j] = a[start + i] === b[start + j] ? lcs[(i + 1) * (m + 1) + j + 1]! + 1 : Math.max(lcs[(i + 1) * (m + 1) + j]!, lcs[i * (m + 1) + j + 1]!);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[start + i] === b[start + j]) {
        push(0, a[start + i]!);
        i++;
        j++;
        // On a tie the old word goes first: what was there, then what came instead.
      } else if (j < m && (i === n || lcs[i * (m + 1) + j + 1]! > lcs[(i + 1) * (m + 1) + j]!)) {
        push(1, b[start + j]!);
        j++;
      } else {
        push(-1, a[start + i]!);
        i++;
      }
    }
  }
  push(0, a.slice(endA).join(''));
  return reorder(pieces);
}

/** Words and the spaces between them, each a token: joined, they are the text again. */
function tokens(text: string): string[] {
  return text.match(/\s+|[^\s]+/g) ?? [];
}

/**
 * Removals before additions within each changed stretch, so that each side reads in order; a
 * lone space shared between two changes joins them, rather than cutting a changed phrase in bits.
 */
function reorder(pieces: DiffPiece[]): DiffPiece[] {
  const out: DiffPiece[] = [];
  let removed = '';
  let added = '';
  const flush = () => {
    if (removed) out.push([-1, removed]);
    if (added) out.push([1, added]);
    removed = added = '';
  };
  pieces.forEach(([op, text], k) => {
    if (op === -1) removed += text;
    else if (op === 1) added += text;
    else if (removed && added && /^\s+$/.test(text) && k + 1 < pieces.length && pieces[k + 1]![0] !== 0) {
      removed += text;
      added += text;
    } else {
      flush();
      out.push([0, text]);
    }
  });
  flush();
  return out;
}
