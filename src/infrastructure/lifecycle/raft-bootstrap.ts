import * as fs from 'node:fs/promises';
import * as path from 'node:path';

/** How this server enters the metadata Raft group (docs/cluster.md "Start-up"). */
export type RaftStartMode = 'restart' | 'seed' | 'peers' | 'join';

export interface RaftBootstrapPlan {
  readonly mode: RaftStartMode;
  /** The voters the node starts with when its log and snapshot say nothing else ([] when joining). */
  readonly voters: readonly string[];
}

const VOTERS_FILE = 'bootstrap-voters.json';
/** Files whose presence means the node has Raft state (docs/raft.md "Storage"). */
const STATE_FILES = ['hard-state.bin', 'snapshot.bin'];

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * docs/cluster.md "Start-up": with Raft state, restart from it (flags ignored); without, bootstrap from the seed
 * flag (a group of one) or the peer list (self plus peers), or else join. The bootstrap voters are
 * persisted next to the Raft state, because a group that never changed membership has no log
 * entry saying who votes.
 */
export async function planRaftBootstrap(
  raftDir: string,
  serverId: string,
  flags: { readonly seed: boolean; readonly peers: readonly string[] },
): Promise<RaftBootstrapPlan> {
  await fs.mkdir(raftDir, { recursive: true });
  const votersFile = path.join(raftDir, VOTERS_FILE);
  const hasState = (await Promise.all(STATE_FILES.map((f) => exists(path.join(raftDir, f))))).some(Boolean);
  if (hasState) {
    const voters = (await exists(votersFile)) ? parseVoters(await fs.readFile(votersFile, 'utf8'), votersFile) : [];
    return { mode: 'restart', voters };
  }
  if (!flags.seed && flags.peers.length === 0) return { mode: 'join', voters: [] };
  const voters = flags.seed ? [serverId] : [...new Set([serverId, ...flags.peers])].sort();
  await writeAtomically(votersFile, JSON.stringify({ voters }));
  return { mode: flags.seed ? 'seed' : 'peers', voters };
}

function parseVoters(text: string, file: string): string[] {
  const damaged = (cause?: unknown): Error =>
    new Error(`${file} is damaged: expected {"voters": [server ids]}`, cause === undefined ? undefined : { cause });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw damaged(error);
  }
  const voters = typeof parsed === 'object' && parsed !== null ? (parsed as { voters?: unknown }).voters : undefined;
  if (!Array.isArray(voters) || !voters.every((v) => typeof v === 'string' && v.length > 0)) throw damaged();
  return voters as string[];
}

async function writeAtomically(file: string, content: string): Promise<void> {
  const tmp = `${file}.tmp`;
  const handle = await fs.open(tmp, 'w');
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(tmp, file);
  const dir = await fs.open(path.dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
