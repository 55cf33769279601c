import { randomUUID } from 'node:crypto';
import { parseParamPath, type ParamPath } from '../config/param-path';
import type { InputEntry, MultiTurnConfig, SimulationConfig } from '../config/types';
import type { Param } from '../instrument/params';
import { recordedValue } from '../replay/binding';
import type { RecordingRef } from '../replay/execute';
import type { LoadedTarget } from '../replay/loader';
import { readRecordingSet, type ReplayRecord } from '../replay/reader';
import type { ConversationPlan } from './conversation';
import { textOf } from './history';
import { readReplay, recordingRef, type ExperimentSetup } from './plan';
import { describeRecording, pathMiss, type ReplaySource } from './replay-source';
import { personaText } from './simulated-user';

/** The recorded conversations, counted before the runs. */
export interface ConversationCensus {
  /** How many calls each conversation has, by its key (see `keyOf`). */
  sizes: Map<string, number>;
  /** Conversations among the recordings. */
  count: number;
  /** Their calls. */
  turns: number;
  /** Conversations shorter than the resume point, which no run replays. */
  short: number;
  /** Calls whose arguments have nothing at `replay_args.conversation.key`: each is a conversation of its own. */
  unkeyed: number;
}

/** A call's conversation: `=` and its key's value as text, or `#` and its index when it has none. */
function keyOf(record: ReplayRecord, key: ParamPath | undefined, params: readonly Param[]): { key: string; id: string } {
  const value = key === undefined ? undefined : recordedValue(record, key, record.params?.length ? record.params : params);
  if (value === undefined || value === null) return { key: `#${record.index}`, id: `recording #${record.index}` };
  const text = textOf(value);
  return { key: `=${text}`, id: text };
}

/** Reads the recordings once and counts their conversations by `replay_args.conversation.key`. */
export async function countConversations(replay: ReplaySource, config: SimulationConfig, multiTurn: MultiTurnConfig, params: readonly Param[]): Promise<ConversationCensus> {
  const census = newCensus();
  const key = keyPath(config);
  for await (const record of readReplay(replay)) count(census, keyOf(record, key, params).key);
  census.count = census.sizes.size;
  const k = multiTurn.resume_from ?? 1;
  for (const size of census.sizes.values()) if (size < k) census.short++;
  return census;
}

/** The recorded conversations of each target in `file` (and the files it was rotated to), as `record status` shows them. */
export async function recordedConversations(file: string, config: SimulationConfig): Promise<Array<{ target: string; conversations: number; turns: number; unkeyed: number }>> {
  const key = keyPath(config);
  const byTarget = new Map<string, ConversationCensus>();
  for await (const record of readRecordingSet(file, { onSkip: () => undefined })) {
    const target = record.target ?? record.function;
    const census = byTarget.get(target) ?? newCensus();
    byTarget.set(target, census);
    count(census, keyOf(record, key, []).key);
  }
  return [...byTarget].map(([target, c]) => ({ target, conversations: c.sizes.size, turns: c.turns, unkeyed: c.unkeyed }));
}

const newCensus = (): ConversationCensus => ({ sizes: new Map(), count: 0, turns: 0, short: 0, unkeyed: 0 });
const keyPath = (config: SimulationConfig) => {
  const text = config.replay_args?.conversation?.key;
  return text === undefined ? undefined : parseParamPath(text);
};

function count(census: ConversationCensus, key: string): void {
  if (key.startsWith('#')) census.unkeyed++;
  census.sizes.set(key, (census.sizes.get(key) ?? 0) + 1);
  census.turns++;
}

/** What the simulated user is told about whom it plays and what it talks to, for one input. */
function roleOf(input: InputEntry, config: SimulationConfig, multiTurn: MultiTurnConfig): { persona?: string; serviceContext?: string } {
  const { persona, persona_description, service_context } = input.metadata as Record<string, unknown>;
  const name = multiTurn.persona_override ?? (typeof persona === 'string' ? persona : undefined);
  const found = config.personas.find((p) => p.name === name);
  const described = found !== undefined ? personaText(found) : typeof persona_description === 'string' ? persona_description : name;
  // FluxLoop reads the service from the config's top-level metadata too.
  const top = (config.raw.metadata as Record<string, unknown> | undefined)?.service_context;
  const context = [service_context, multiTurn.service_context, top].find((c): c is string => typeof c === 'string' && c !== '');
  return { ...(described ? { persona: described } : {}), ...(context ? { serviceContext: context } : {}) };
}

/**
 * The conversations in order: iterations × recorded conversations × inputs (inputs alone without
 * recordings), streamed, at most `limit`. A recorded conversation is planned once its last call
 * has been read, so that only conversations still open are held in memory; one shorter than the
 * resume point is left out (the census counted it).
 */
export async function* planConversations(setup: ExperimentSetup, target: Pick<LoadedTarget, 'params'>, limit = Infinity): AsyncGenerator<ConversationPlan> {
  const { config, replay, conversations: census } = setup;
  const multiTurn = setup.multiTurn!;
  const inputs = setup.inputs.inputs;
  const k = multiTurn.resume_from ?? 1;
  const historyPath = config.replay_args?.conversation?.history_path;
  const key = keyPath(config);
  const plan = (iteration: number, i: number, id: string, turns: RecordingRef[], error?: string): ConversationPlan => ({
    traceId: randomUUID(),
    iteration,
    inputIndex: i,
    input: inputs[i]!,
    conversation: {
      id,
      turns,
      resumeFrom: multiTurn.resume_from ?? null,
      maxTurns: multiTurn.max_turns,
      ...(historyPath === undefined ? {} : { historyPath }),
      autoApprove: multiTurn.auto_approve_tools,
      ...roleOf(inputs[i]!, config, multiTurn),
    },
    ...(replay === undefined ? {} : { path: replay.path.text }),
    ...(error === undefined ? {} : { error }),
  });
  let planned = 0;
  for (let iteration = 0; iteration < setup.iterations; iteration++) {
    if (replay === undefined || census === undefined) {
      // Without recordings there is nothing to resume.
      for (let i = 0; i < inputs.length && k === 1; i++) {
        if (planned++ >= limit) return;
        yield plan(iteration, i, `input #${i}`, []);
      }
      continue;
    }
    const open = new Map<string, { id: string; turns: RecordingRef[]; error?: string }>();
    for await (const record of readReplay(replay)) {
      const { key: at, id } = keyOf(record, key, target.params);
      const group = open.get(at) ?? { id, turns: [] };
      group.turns.push(recordingRef(record));
      const miss = replay.resolved === replay.count ? undefined : pathMiss(replay, record, target);
      if (miss !== undefined) group.error ??= `${describeRecording(replay, record)}: ${miss}`;
      if (group.turns.length < (census.sizes.get(at) ?? 1)) {
        open.set(at, group);
        continue;
      }
      open.delete(at);
      if (group.turns.length < k) continue;
      for (let i = 0; i < inputs.length; i++) {
        if (planned++ >= limit) return;
        yield plan(iteration, i, group.id, group.turns, group.error);
      }
    }
  }
}
