/**
 * The arguments the per-call benchmark calls the agent with, one set per size: the size is the
 * UTF-8 length of the arguments' JSON. Every set is built the same way in every process (a seeded
 * generator, no clock), so that the variants, each in a process of its own, record the same bytes.
 */

/** The sizes, in bytes of the arguments' JSON, by the name the benchmark's rows use. */
export const SIZES = { '100 B': 100, '1 KB': 1_000, '10 KB': 10_000, '100 KB': 100_000, '1 MB': 1_000_000 };

/**
 * The arguments of `size` (a key of SIZES). Another `seed` makes another state of the same size,
 * with text of its own, from 1 KB up; the chat message is one.
 */
export function argsOf(size, seed = 0) {
  const bytes = SIZES[size];
  if (bytes === undefined) throw new Error(`unknown size "${size}"; choose from ${Object.keys(SIZES).join(', ')}`);
  return bytes === 100 ? chatArgs() : [agentState(bytes, seed)];
}

/** The UTF-8 length of the arguments' JSON. */
export function jsonBytes(args) {
  return Buffer.byteLength(JSON.stringify(args));
}

/** What a chat handler typically gets: a message and a few options (101 bytes of JSON). */
function chatArgs() {
  return ['How do I reset my password?', { userId: 'u_1042', locale: 'en-US', stream: false, temperature: 0.2 }];
}

// A small seeded generator (mulberry32): the same text in every process, and no text repeated over and over.
function random(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'the order was shipped from our warehouse on Monday and should arrive within three to five business days ' +
  'tracking shows the parcel at the regional sorting centre you can change the delivery address until it leaves ' +
  'a refund is issued to the original payment method once the return is scanned at the depot returns are free ' +
  'for thirty days after delivery items must be unused and in their packaging the courier will try twice ' +
  'before the parcel goes back to the pickup point where it waits for seven days customer support can reissue ' +
  'a label if the first one was lost invoices are attached to the confirmation email and to your account page'
).split(' ');
// Non-ASCII here and there, as real conversations have it: names, a few accented words, an emoji.
const RARE = ['Zoë', 'José', 'Müller', 'Łódź', 'São Paulo', 'café', 'naïve', 'déjà vu', 'Straße', '👍', '—', '…'];
const NAMES = ['Ada Lovelace', 'Zoë Moreau', 'José Álvarez', 'Jörg Weiß', 'Ngozi Okafor', 'Łukasz Nowak'];
const TOOLS = ['lookup_order', 'track_parcel', 'search_help_center', 'issue_refund'];

/** Prose of about `length` characters: words, a rare non-ASCII one now and then unless `ascii`. */
function prose(next, length, ascii = false) {
  const out = [];
  let n = 0;
  while (n < length) {
    const word = !ascii && next() < 0.015 ? RARE[Math.floor(next() * RARE.length)] : WORDS[Math.floor(next() * WORDS.length)];
    out.push(word);
    n += word.length + 1;
  }
  const text = out.join(' ');
  return text.charAt(0).toUpperCase() + text.slice(1) + '.';
}

/**
 * An agent's state of `bytes` bytes of JSON, to the byte: the conversation so far, with tool calls
 * and their outputs (JSON text, so full of quotes that JSON escapes) and assistant replies in
 * paragraphs (newlines), the documents retrieved for the question, the user and the model's
 * settings, and last the user's new question. The history grows by whole exchanges and
 * documents, and the question, plain ASCII, makes up the difference. At no size does it come near
 * the recorder's caps (no string of 20,000 characters, no array of 1,000 items, depth 8), so that
 * what is recorded is the whole of it.
 */
function agentState(bytes, seed) {
  const next = random(bytes + seed * 65_537);
  // Texts grow with the state up to what they are in practice: a tool output of a few KB, a
  // retrieved chunk of a few hundred words.
  const scale = (max) => Math.max(16, Math.min(max, Math.round(bytes / 40)));
  const user = { id: 'u_1042', name: 'Zoë Moreau', locale: 'fr-FR', plan: 'pro' };
  const messages = [];
  const documents = [];
  const state = {
    conversation: { id: 'c_81f2', channel: 'web', user, messages },
    retrieval: { query: 'where is my parcel', documents },
    settings: { model: 'gpt-4o-mini', temperature: 0.2, max_tokens: 512 },
  };
  const at = (turn) => 1_730_797_964_120 + turn * 90_000;
  const question = { role: 'user', content: '', at: 0 };
  // The question's own bytes, without its content: what it takes at least.
  const QUESTION = Buffer.byteLength(JSON.stringify(question)) + 16;
  let size = jsonBytes([state]);
  /** Adds the items to the list if they leave room for the question; false, adding none, if not. */
  const add = (list, ...items) => {
    const more = items.reduce((n, item) => n + Buffer.byteLength(JSON.stringify(item)) + 1, 0);
    if (size + more + QUESTION > bytes) return false;
    list.push(...items);
    size += more;
    return true;
  };
  const retrieved = (i) => ({
    id: `kb-${1_200 + i}`,
    title: `Returns, part ${i + 1}`,
    url: `https://help.example.com/articles/shipping-${i + 1}`,
    score: Math.round((0.93 - i * 0.004) * 1000) / 1000,
    author: NAMES[i % NAMES.length],
    text: prose(next, scale(2_400)),
  });
  const exchange = (turn) => {
    const tool = TOOLS[turn % TOOLS.length];
    const call = `call_${(turn * 7919).toString(36).padStart(6, '0')}`;
    const order = { order_id: `A-${10_042 + turn}`, status: 'in_transit', eta: '2024-11-08', note: prose(next, scale(3_000)) };
    const content = turn % 5 === 1 ? `It says "${prose(next, 18)}" on the tracking page, what does that mean?` : prose(next, scale(220));
    return [
      { role: 'user', content, at: at(turn) },
      { role: 'assistant', content: null, tool_calls: [{ id: call, type: 'function', function: { name: tool, arguments: JSON.stringify({ order_id: order.order_id }) } }] },
      { role: 'tool', tool_call_id: call, name: tool, content: JSON.stringify(order, null, 2) },
    ];
  };
  const reply = (turn) => ({
    role: 'assistant',
    content: `${prose(next, scale(600))}\n\n- ${prose(next, scale(120))}\n- ${prose(next, scale(120))}\n\nBonne journée, ${user.name.split(' ')[0]}!`,
    usage: { prompt_tokens: 940 + turn * 40, completion_tokens: 96 },
  });
  // Until something does not fit: a document every other turn, each turn's call and its output,
  // then the reply.
  let turn = 0;
  while ((turn % 2 === 1 || add(documents, retrieved(documents.length))) && add(messages, ...exchange(turn)) && add(messages, reply(turn))) turn++;
  if (documents.length === 0 || messages.length < 3) throw new Error(`a ${bytes}-byte state has no room for a document and a tool call`);
  question.at = at(turn + 1);
  messages.push(question);
  const room = bytes - jsonBytes([state]);
  if (room < 2) throw new Error(`the history of a ${bytes}-byte state left no room for its question (${room})`);
  question.content = `${prose(next, room, true).slice(0, room - 1)}?`;
  const got = jsonBytes([state]);
  if (got !== bytes) throw new Error(`the state came to ${got} bytes, not ${bytes}`);
  return state;
}
