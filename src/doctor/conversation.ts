import { parseParamPath, type ParamPath } from '../config/param-path';
import type { Param } from '../instrument/params';
import { locate, valueAt, type CallArgs } from '../replay/paths';
import type { ReplayRecord } from '../replay/reader';
import { check, type Check } from './check';
import { configLabel, type DoctorContext } from './context';
import type { ReplayedScan, Watcher } from './replayed';

const ID = 'conversations';
const TITLE = 'conversations';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Groups the replayed recordings by `replay_args.conversation.key`, as a multi-turn experiment does, and sees where `history_path` resolves. */
export class ConversationWatcher implements Watcher {
  readonly key: ParamPath | undefined;
  readonly history: ParamPath | undefined;
  readonly sizes = new Map<string, number>();
  unkeyed = 0;
  /** The first recording without a history at `history_path`. */
  historyMiss: number | undefined;
  withHistory = 0;

  constructor(ctx: DoctorContext) {
    const conversation = ctx.config.ok ? ctx.config.value.replay_args?.conversation : undefined;
    // The config check has already parsed them: a config that loads holds valid paths.
    this.key = conversation?.key === undefined ? undefined : parseParamPath(conversation.key);
    this.history = conversation?.history_path === undefined ? undefined : parseParamPath(conversation.history_path);
  }

  see(record: ReplayRecord, call: CallArgs, params: readonly Param[]): void {
    if (this.key !== undefined) {
      const at = locate(this.key, call, params);
      const value = at === undefined ? undefined : valueAt(call, at);
      if (value === undefined || value === null) this.unkeyed++;
      else this.sizes.set(JSON.stringify(value), (this.sizes.get(JSON.stringify(value)) ?? 0) + 1);
    }
    if (this.history === undefined) return;
    if (locate(this.history, call, params) !== undefined) this.withHistory++;
    else this.historyMiss ??= record.line;
  }
}

/**
 * How the recordings form conversations: the key groups them (a call without it is a
 * conversation alone), and the agent's history is where `history_path` says, in each.
 */
export function checkConversations(ctx: DoctorContext, scan: ReplayedScan, watcher: ConversationWatcher): Check {
  const config = configLabel(ctx);
  if (!ctx.config.ok) return check(ID, TITLE, 'skip', `${config} does not load`);
  if (watcher.key === undefined && watcher.history === undefined) return check(ID, TITLE, 'skip', 'replay_args.conversation is not set: each recorded call is a conversation of its own');
  if (!scan.ok) return check(ID, TITLE, 'skip', scan.detail);
  const { count, target, display } = scan.replayed;
  const problems: string[] = [];
  const fixes: string[] = [];
  let grouped = '';
  if (watcher.key !== undefined) {
    const longest = Math.max(0, ...watcher.sizes.values());
    if (watcher.sizes.size > 0) grouped = `${watcher.key.text} groups ${plural(count - watcher.unkeyed, 'recording')} of ${target} into ${plural(watcher.sizes.size, 'conversation')} (the longest ${plural(longest, 'turn')})`;
    if (watcher.unkeyed > 0) {
      problems.push(
        watcher.unkeyed === count
          ? `none of them has a value at ${watcher.key.text}: each is a conversation alone`
          : `${watcher.unkeyed} of the ${count} have no value at ${watcher.key.text}: each of those is a conversation alone`,
      );
      fixes.push(`set replay_args.conversation.key in ${config} to the path of the conversation's id in the arguments`);
    }
  }
  if (watcher.history !== undefined && watcher.withHistory < count) {
    problems.push(`${watcher.history.text} points nowhere in ${count - watcher.withHistory} of the ${count} recordings (the first: ${display}:${watcher.historyMiss}), whose turns then fail`);
    fixes.push(`set replay_args.conversation.history_path in ${config} to where the agent gets its history`);
  }
  const said = [grouped, ...problems].filter(Boolean).join('; ');
  if (problems.length === 0) return check(ID, TITLE, 'ok', `${said}${watcher.history === undefined ? '' : `; ${watcher.history.text} holds the history in all of them`}`);
  return check(ID, TITLE, 'warn', said, fixes.join('; '));
}
