/** One message of a conversation, as fluxloop keeps its transcript. */
export interface Said {
  role: 'user' | 'assistant';
  /** The user's message, or the agent's output as it returned it. */
  content: unknown;
}

/**
 * How the app wrote a conversation's history, learnt from the histories it was recorded with: the
 * field that holds the text and the one that holds the role, with the role's values; an entry of
 * each role to copy (its other fields kept as recorded); entries before the first message (a
 * system prompt); and whether the history already holds the message it comes with.
 */
export interface HistoryShape {
  /** Entries are the texts themselves. */
  strings: boolean;
  content: string;
  role: string;
  values: Record<Said['role'], unknown>;
  templates: Partial<Record<Said['role'], Record<string, unknown>>>;
  prefix: unknown[];
  includesCurrent: boolean;
}

const DEFAULT_SHAPE: HistoryShape = { strings: false, content: 'content', role: 'role', values: { user: 'user', assistant: 'assistant' }, templates: {}, prefix: [], includesCurrent: false };

type Entry = Record<string, unknown>;
const isEntry = (v: unknown): v is Entry => typeof v === 'object' && v !== null && !Array.isArray(v);
const stringKeys = (entry: Entry) => Object.keys(entry).filter((k) => typeof entry[k] === 'string');

/**
 * The shape of the histories recorded beside `messages` (each recorded turn's history and user
 * message, in order). The content field is the one that holds a user message the conversation had;
 * the role field is another text field, and the value it has beside a user message is the user's.
 * Without a match (no turn had history yet), the commonest layout stands: `{role, content}`.
 * Written by hand: no library learns a record layout from examples this small.
 */
export function learnShape(recorded: ReadonlyArray<{ history: unknown; message: string }>): HistoryShape {
  const histories = recorded.map((r) => r.history).filter(Array.isArray) as unknown[][];
  const entries = histories.flat();
  if (entries.length > 0 && entries.every((e) => typeof e === 'string')) {
    return { ...DEFAULT_SHAPE, strings: true, includesCurrent: recorded.some((r) => Array.isArray(r.history) && r.history.at(-1) === r.message) };
  }
  const messages = new Set(recorded.map((r) => r.message));
  let content: string | undefined;
  let role: string | undefined;
  let user: Entry | undefined;
  for (const entry of entries.filter(isEntry)) {
    const key = stringKeys(entry).find((k) => messages.has(entry[k] as string));
    if (key === undefined) continue;
    content = key;
    role = stringKeys(entry).find((k) => k !== key && !messages.has(entry[k] as string));
    user = entry;
    break;
  }
  if (content === undefined || role === undefined || user === undefined) return DEFAULT_SHAPE;
  const userValue = user[role];
  const objects = entries.filter(isEntry);
  const first = objects.findIndex((e) => e[role] === userValue || messages.has(e[content] as string));
  const assistant = objects.find((e, i) => i > first && e[role] !== userValue && typeof e[content] === typeof user[content]) ?? objects.find((e) => e[role] !== userValue && e[role] !== objects[0]?.[role]);
  const firstHistory = histories.find((h) => h.length > 0) ?? [];
  const prefix = firstHistory.slice(0, Math.max(0, firstHistory.findIndex((e) => isEntry(e) && (e[role] === userValue || e[role] === assistant?.[role]))));
  const includesCurrent = recorded.some((r) => {
    const last = Array.isArray(r.history) ? r.history.at(-1) : undefined;
    return isEntry(last) && last[role] === userValue && last[content] === r.message;
  });
  return {
    strings: false,
    content,
    role,
    values: { user: userValue, assistant: assistant?.[role] ?? 'assistant' },
    templates: { user, ...(assistant ? { assistant } : {}) },
    prefix,
    includesCurrent,
  };
}

/**
 * The history a turn gets: the transcript before it (and its own message, where the app's
 * histories held it) in the recorded shape. Each entry copies the recorded entry of its role, its
 * text replaced; an answer that is not text goes in as text only where the recorded ones were text.
 */
export function buildHistory(shape: HistoryShape, transcript: readonly Said[], current: string): unknown[] {
  const said = shape.includesCurrent ? [...transcript, { role: 'user' as const, content: current }] : transcript;
  if (shape.strings) return said.map((s) => textOf(s.content));
  const entries = said.map((s) => {
    const template = shape.templates[s.role];
    const recordedText = typeof template?.[shape.content] === 'string' || template === undefined;
    const content = recordedText ? textOf(s.content) : s.content;
    return { ...structuredClone(template ?? {}), [shape.role]: shape.values[s.role], [shape.content]: content };
  });
  return [...structuredClone(shape.prefix), ...entries];
}

/**
 * An output as text: a string as it is; a read framework object (`{$type, value}`) by its body;
 * an object by the first text field of the usual names; anything else as JSON.
 */
export function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) return '';
  if (isEntry(value)) {
    if (typeof value.$type === 'string' && 'value' in value) return textOf(isEntry(value.value) && 'body' in value.value ? value.value.body : value.value);
    for (const key of ['content', 'text', 'reply', 'message', 'answer', 'output']) if (typeof value[key] === 'string') return value[key] as string;
  }
  return JSON.stringify(value) ?? String(value);
}
