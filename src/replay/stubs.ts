import { isDeepStrictEqual } from 'node:util';
import type { DownstreamReplayConfig } from '../config/types';
import type { ChildKind, ChildRecord, Usage } from '../record/downstream-format';
import type { Answer, CallSummary, Divergence, RunCall } from './calls';

// A run's downstream calls, decided one by one against the recording's (`replay_args.downstream`),
// and its timeline and divergence at the end. Pure: the intercepts (./intercept) describe each
// call, with its request encoded and redacted as the recorder does, and act on the decision.

/** A downstream call a run makes, described as its recording would describe it. */
export type Call =
  | {
      kind: 'http';
      /** As a child record's `name`: `POST api.example.com/v1/search`. */
      name: string;
      method: string;
      /** Redacted as the recorder redacts it. */
      url: string;
      /** Encoded and redacted as a recorded request's body: JSON when it parses, else text; null without one. */
      body: unknown;
    }
  | {
      kind: 'llm';
      name: string;
      provider: string;
      api: string;
      model: string | null;
      /** As a recorded LLM call's `messages`, redacted. */
      messages: unknown;
    }
  | {
      kind: 'tool';
      /** The target as configured in `recording.downstream.targets`. */
      name: string;
      /** Encoded and redacted as a record's `args`. */
      args: unknown[];
    };

/** What the intercept does with a call. */
export type Decision =
  /** Answer with the recorded call: its response, its output, its error. */
  | { answer: 'stub'; seq: number; recorded: ChildRecord }
  /** Let it through; `warning` when only `unmatched: live` let it. */
  | { answer: 'live'; seq: number; warning?: string }
  /** Fail it with `error` (http: deny; a call the recording cannot answer under `unmatched: error`). */
  | { answer: 'denied' | 'unmatched'; seq: number; error: Error };

/** How a call ended, for the timeline. */
export interface Ending {
  status?: number;
  usage?: Usage | null;
  model?: string | null;
  error?: unknown;
}

/** The error a denied or unmatched call fails with; `fluxloop` in the name, so that an app's log says who failed it. */
export class DownstreamError extends Error {
  override name = 'FluxloopDownstreamError';
}

/** A call of the timeline, with what divergence compares. */
type Entry = RunCall & { summary: CallSummary };

const MODE_KEY: Record<ChildKind, 'http' | 'llm' | 'tools'> = { http: 'http', llm: 'llm', tool: 'tools' };

/**
 * One run's downstream calls. Calls are matched to the recording's in order and by request: the
 * recorded call at the cursor first, then any other not answered yet. Live calls are paired with
 * the recorded call at the cursor when it is the same call, for the timeline.
 */
export class DownstreamRun {
  private readonly recorded: ChildRecord[];
  private readonly used = new Set<number>();
  /** Recorded calls made inside a tool call that the run answered from the recording: the run never makes them. */
  private readonly covered = new Set<number>();
  private cursor = 0;
  private readonly calls: Entry[] = [];
  private readonly started = performance.now();
  private readonly hasRecording: boolean;
  /** The first call the recording could not answer under `unmatched: error`: it fails the run, even when the app caught it. */
  failure: Error | undefined;
  /** What the run should say: calls let through live because the recording had none like them. */
  readonly warnings: string[] = [];

  /**
   * `recorded` is the recording's `downstream`: undefined for a recording made before fluxloop
   * recorded downstream calls (or a run without a recording).
   */
  constructor(
    recorded: readonly ChildRecord[] | undefined,
    readonly modes: DownstreamReplayConfig,
  ) {
    this.recorded = [...(recorded ?? [])].sort((a, b) => a.seq - b.seq);
    this.hasRecording = recorded !== undefined;
  }

  /** Decides a call as it starts. */
  begin(call: Call): Decision {
    const mode = this.modes[MODE_KEY[call.kind]];
    const seq = this.calls.length;
    const entry: Entry = { seq, kind: call.kind, name: call.name, answer: 'live' as Answer, matched: null as number | null, started_ms: round(performance.now() - this.started), duration_ms: 0, summary: summaryOf(call) };
    this.calls.push(entry);
    if (call.kind === 'llm') Object.assign(entry, { model: call.model });
    if (mode === 'deny') {
      entry.answer = 'denied';
      const error = new DownstreamError(`${call.name} was denied: replay_args.downstream.${MODE_KEY[call.kind]} is deny`);
      entry.error = { name: error.name, message: error.message };
      return { answer: 'denied', seq, error };
    }
    if (mode === 'live') {
      // Paired, not consumed: a live call is compared with the recording, never answered from it.
      const at = this.cursor < this.recorded.length && this.sameCall(this.recorded[this.cursor]!, call) ? this.cursor : -1;
      if (at !== -1) {
        entry.matched = this.recorded[at]!.seq;
        this.cursor++;
        this.skipCovered();
      }
      return { answer: 'live', seq };
    }
    const at = this.find(call);
    if (at !== -1) {
      const recorded = this.recorded[at]!;
      this.used.add(at);
      if (at >= this.cursor) this.cursor = at + 1;
      entry.answer = 'stub';
      entry.matched = recorded.seq;
      if (recorded.kind === 'tool') {
        for (const inner of nestedIn(recorded, this.recorded)) this.covered.add(inner);
      }
      this.skipCovered();
      const usage = recorded.llm?.usage;
      if (usage !== undefined) Object.assign(entry, { usage });
      return { answer: 'stub', seq, recorded };
    }
    const message = this.unmatched(call);
    if (this.modes.unmatched === 'live') {
      const warning = `${message}; it was made live (replay_args.downstream.unmatched: live)`;
      if (!this.warnings.includes(warning)) this.warnings.push(warning);
      return { answer: 'live', seq, warning };
    }
    const error = new DownstreamError(message);
    this.failure ??= error;
    entry.answer = 'unmatched';
    entry.error = { name: error.name, message };
    return { answer: 'unmatched', seq, error };
  }

  /** Notes how the call `seq` ended. */
  end(seq: number, ending: Ending = {}): void {
    const entry = this.calls[seq];
    if (entry === undefined) return;
    entry.duration_ms = round(performance.now() - this.started - entry.started_ms);
    if (ending.status !== undefined) entry.status = ending.status;
    if (ending.usage !== undefined) entry.usage = ending.usage;
    if (ending.model !== undefined && ending.model !== null) entry.model = ending.model;
    if (ending.error !== undefined && entry.error == null) {
      const error = ending.error as { name?: unknown; message?: unknown };
      entry.error = { name: String(error?.name ?? 'Error'), message: String(error?.message ?? ending.error) };
    }
  }

  /** The run's calls in the order they started: `downstream` in traces.jsonl. */
  timeline(): RunCall[] {
    return this.calls.map(({ summary, ...call }) => call);
  }

  /**
   * Where the run's calls first part from the recording's, or null when they go the same way. A
   * recorded call made inside a tool call that the run answered from the recording is left out:
   * the run never made it. LLM calls are compared by provider, API and model alone: their
   * messages hold the input, which each run changes.
   */
  divergence(): Divergence | null {
    if (!this.hasRecording) return null;
    const expected = this.recorded.filter((c) => !this.covered.has(c.seq)).map(recordedSummary);
    const actual = this.calls.map((c) => c.summary);
    for (let i = 0; i < Math.max(expected.length, actual.length); i++) {
      const want = expected[i];
      const got = actual[i];
      if (want === undefined) return { index: i, kind: 'extra_call', expected: null, actual: got! };
      if (got === undefined) return { index: i, kind: 'missing_call', expected: want, actual: null };
      if (want.kind !== got.kind || want.name !== got.name) return { index: i, kind: 'other_call', expected: want, actual: got };
      if (!sameJson(want.arguments, got.arguments)) return { index: i, kind: 'other_arguments', expected: want, actual: got };
    }
    return null;
  }

  /** Moves the cursor past the recorded calls the run will not make. */
  private skipCovered(): void {
    while (this.cursor < this.recorded.length && this.covered.has(this.recorded[this.cursor]!.seq)) this.cursor++;
  }

  /** The recorded call that answers `call`: the one at the cursor, else the first unused one; -1 when none. */
  private find(call: Call): number {
    if (this.cursor < this.recorded.length && !this.used.has(this.cursor) && this.sameCall(this.recorded[this.cursor]!, call)) return this.cursor;
    return this.recorded.findIndex((c, i) => !this.used.has(i) && this.sameCall(c, call));
  }

  /** Whether a recorded call answers `call`: the same request (a live LLM call: the same provider, API and model). */
  private sameCall(recorded: ChildRecord, call: Call): boolean {
    if (recorded.kind !== call.kind) return false;
    switch (call.kind) {
      case 'http':
        return recorded.request !== undefined && recorded.request.method.toUpperCase() === call.method.toUpperCase() && sameUrl(recorded.request.url, call.url) && sameJson(recorded.request.body, call.body);
      case 'llm': {
        const llm = recorded.llm;
        if (llm === undefined || llm.provider !== call.provider || llm.api !== call.api || llm.model !== call.model) return false;
        return this.modes.llm === 'live' || sameJson(llm.messages, call.messages);
      }
      case 'tool':
        return (recorded.target ?? recorded.name) === call.name && sameJson(recorded.args ?? [], call.args);
    }
  }

  /** Why the recording cannot answer `call`, naming it and the closest recorded call. */
  private unmatched(call: Call): string {
    const what = `${call.kind} call ${describe(call)}`;
    if (!this.hasRecording) {
      return (
        `no recorded answer for the ${what}: the recording has no downstream calls: it was made before fluxloop recorded them, or with recording.downstream off; ` +
        `record it again, or set replay_args.downstream.${MODE_KEY[call.kind]}: live (or --downstream ${MODE_KEY[call.kind]}=live) to make such calls for real`
      );
    }
    const closest = this.closest(call);
    const hint = `set replay_args.downstream.unmatched: live to make it for real`;
    if (closest === undefined) return `no recorded answer for the ${what}: the recording has no ${call.kind} calls; ${hint}`;
    const state = this.used.has(this.recorded.indexOf(closest)) ? ', already answered' : '';
    return `no recorded answer for the ${what}; the closest recorded call is #${closest.seq} ${describeRecorded(closest)}${state}; ${hint}`;
  }

  /** The recorded call most like `call`: of the same kind, the same name first, then unused, then nearest the cursor. */
  private closest(call: Call): ChildRecord | undefined {
    let best: { c: ChildRecord; key: number[] } | undefined;
    this.recorded.forEach((c, i) => {
      if (c.kind !== call.kind) return;
      const key = [recordedName(c) === call.name ? 0 : 1, this.used.has(i) ? 1 : 0, Math.abs(i - this.cursor)];
      if (best === undefined || before(key, best.key)) best = { c, key };
    });
    return best?.c;
  }
}

/** Whether the key `a` sorts before `b`, element by element. */
function before(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return false;
}

/** A recorded tool call's name: its target. */
function recordedName(c: ChildRecord): string {
  return c.kind === 'tool' ? (c.target ?? c.name) : c.name;
}

/** The recorded calls made inside a tool call (a tool inside it included), and so not made when it is answered from the recording. */
function nestedIn(tool: ChildRecord, recorded: readonly ChildRecord[]): number[] {
  const inside = new Set([tool.seq]);
  // A call starts after the tool it was made in, so one pass in seq order finds calls nested at any depth.
  for (const c of [...recorded].sort((a, b) => a.seq - b.seq)) if (c.within !== undefined && inside.has(c.within)) inside.add(c.seq);
  inside.delete(tool.seq);
  return [...inside];
}

function summaryOf(call: Call): CallSummary {
  switch (call.kind) {
    case 'http':
      return { kind: 'http', name: call.name, arguments: httpArguments(call.url, call.body) };
    case 'llm':
      return { kind: 'llm', name: call.name, arguments: null };
    case 'tool':
      return { kind: 'tool', name: call.name, arguments: call.args };
  }
}

/** A recorded call as divergence shows it. */
export function recordedSummary(c: ChildRecord): CallSummary {
  switch (c.kind) {
    case 'http':
      return { kind: 'http', name: c.name, arguments: c.request === undefined ? null : httpArguments(c.request.url, c.request.body) };
    case 'llm':
      return { kind: 'llm', name: c.name, arguments: null };
    case 'tool':
      return { kind: 'tool', name: recordedName(c), arguments: c.args ?? [] };
  }
}

/** An HTTP request's arguments: its body, or without one its URL's query (a GET's arguments). */
function httpArguments(url: string, body: unknown): unknown {
  if (body !== null && body !== undefined && body !== '') return body;
  const query = url.indexOf('?');
  return query === -1 ? null : url.slice(query + 1).split('#')[0];
}

function describe(call: Call): string {
  switch (call.kind) {
    case 'http':
      return `${call.method.toUpperCase()} ${call.url}${call.body === null || call.body === undefined ? '' : ` with body ${preview(call.body)}`}`;
    case 'llm':
      return `${call.name} with messages ${preview(call.messages)}`;
    case 'tool':
      return `${call.name}(${preview(call.args).slice(1, -1)})`;
  }
}

function describeRecorded(c: ChildRecord): string {
  if (c.kind === 'http' && c.request !== undefined) return describe({ kind: 'http', name: c.name, method: c.request.method, url: c.request.url, body: c.request.body });
  if (c.kind === 'llm' && c.llm !== undefined) return describe({ kind: 'llm', name: c.name, provider: c.llm.provider, api: c.llm.api, model: c.llm.model, messages: c.llm.messages });
  if (c.kind === 'tool') return describe({ kind: 'tool', name: recordedName(c), args: c.args ?? [] });
  return c.name;
}

/** A value's JSON, short enough for a message. */
function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** JSON compared by structure: the order of an object's keys does not count. */
function sameJson(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(normal(a), normal(b));
}

function normal(value: unknown): unknown {
  if (value === undefined || value === '') return null;
  return value;
}

/** URLs compared as URLs: the order of the query's parameters does not count, nor a trailing `?`. */
function sameUrl(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    const x = new URL(a);
    const y = new URL(b);
    x.searchParams.sort();
    y.searchParams.sort();
    return x.href === y.href;
  } catch {
    return false;
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
