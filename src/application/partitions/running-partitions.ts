/**
 * The partitions running on this server by key, and how many of them it leads, counted as entries
 * come and go: the metrics gauge is set after every start and stop, and recounting every running
 * partition each time made opening n partitions cost n² (1.1 s of a 6,144-partition restart).
 * The keys are also indexed by stream: reconciling a stream looked at every running partition,
 * n² again over a restart of many small streams (0.6 s of 10,000 partitions in 2,500 streams).
 */
export class RunningPartitions<R extends { leader: object | null; readonly state: { readonly stream: string } }> extends Map<string, R> {
  private leading = 0;
  private readonly keysByStream = new Map<string, Set<string>>();

  /** How many of the running partitions this server leads. */
  get leaders(): number {
    return this.leading;
  }

  /** Gives the running partition `key` its leader role. */
  setLeader(key: string, leader: NonNullable<R['leader']>): void {
    const r = this.get(key);
    if (r === undefined) throw new Error(`partition ${key} is not running`);
    if (r.leader === null) this.leading++;
    r.leader = leader;
  }

  /** The keys of the running partitions of `stream`, in the order they started (a copy: safe to stop them meanwhile). */
  keysOf(stream: string): string[] {
    const keys = this.keysByStream.get(stream);
    return keys === undefined ? [] : [...keys];
  }

  override set(key: string, value: R): this {
    const previous = this.get(key);
    if (previous !== undefined) {
      if (previous.leader !== null) this.leading--;
      // Replaced under the same stream: it keeps its place, as in the map itself.
      if (previous.state.stream !== value.state.stream) this.unindex(key, previous.state.stream);
    }
    if (value.leader !== null) this.leading++;
    let keys = this.keysByStream.get(value.state.stream);
    if (keys === undefined) this.keysByStream.set(value.state.stream, (keys = new Set()));
    keys.add(key);
    return super.set(key, value);
  }

  override delete(key: string): boolean {
    const r = this.get(key);
    if (r !== undefined) {
      if (r.leader !== null) this.leading--;
      this.unindex(key, r.state.stream);
    }
    return super.delete(key);
  }

  override clear(): void {
    this.leading = 0;
    this.keysByStream.clear();
    super.clear();
  }

  private unindex(key: string, stream: string): void {
    const keys = this.keysByStream.get(stream);
    if (keys === undefined) return;
    keys.delete(key);
    if (keys.size === 0) this.keysByStream.delete(stream);
  }
}

/** Runs `task` for every item, at most `limit` at a time; resolves once all are done (tasks must not reject). */
export async function forEachBounded<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** At most `limit` tasks at once across every caller; the others wait their turn, in call order. */
export class ConcurrencyLimit {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active < this.limit) this.active++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      // The slot passes straight to the next waiting task, if any.
      const next = this.waiting.shift();
      if (next === undefined) this.active--;
      else next();
    }
  }
}
