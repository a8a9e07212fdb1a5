import { Msg, Subscription } from 'nats';
import { bytesPreview, DroppedMessageLog } from '../../../application/diagnostics/dropped-message-log';
import type { Logger } from '../../../application/ports/logger.port';
import type { InternalNatsConnection } from './internal-connection';
import { isServerIdToken, MessageKind, Subjects } from './subjects';

/** How often a seed server announces itself (Liftbridge's interval, docs/cluster.md). */
export const SEED_ANNOUNCE_INTERVAL_MS = 10_000;
/** A detected conflict clears after this many intervals without hearing another seed. */
export const SEED_CONFLICT_CLEARS_AFTER_INTERVALS = 3;
/** An announcement longer than this is not a server id. */
export const ANNOUNCED_ID_BYTES_MAX = 256;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The server id an announcement carries (raw UTF-8 bytes, no envelope, as Liftbridge sends it), or
 * null when the bytes are not one: empty, too long, not UTF-8, not a NATS token, or holding
 * control characters. Only a valid id counts as an announcement.
 */
export function parseAnnouncedServerId(data: Uint8Array): string | null {
  if (data.length === 0 || data.length > ANNOUNCED_ID_BYTES_MAX) return null;
  let id: string;
  try {
    id = utf8.decode(data);
  } catch {
    return null;
  }
  return isServerIdToken(id) && !/\p{Cc}/u.test(id) ? id : null;
}

/**
 * Misconfiguration detection for `raft.bootstrap.seed` (docs/cluster.md "Start-up"): two seeds in
 * one namespace would each bootstrap their own cluster on the same subjects. A seed publishes its
 * id to `<ns>.raft.metadata.bootstrap` at start and every 10 s with reply subject
 * `<ns>.raft.metadata.bootstrap.reply`; a seed that hears another seed's id answers with its own,
 * so both learn of it.
 *
 * Unlike Liftbridge, which exits, hearing another seed never stops this server (no input on any
 * subject may): `onChange` reports the other seed's id (readiness and a metric show it) and the
 * conflict clears once no other seed was heard for three intervals. What counts is a valid server
 * id on the right subject with the right reply subject, and, when the cluster has a secret, only
 * a signed one (the connection drops the rest before this sees it). Anything else is dropped and
 * counted, its bytes logged only as a bounded hex preview.
 */
export class NatsSeedConflictDetector {
  private readonly subjects: Subjects;
  private subscriptions: Subscription[] = [];
  private timer: NodeJS.Timeout | null = null;
  private otherSeed: string | null = null;
  private lastHeardMs = 0;
  private lastAnswerMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly nc: InternalNatsConnection,
    namespace: string,
    private readonly serverId: string,
    private readonly logger: Logger,
    private readonly drops: DroppedMessageLog,
    /** Another seed's id when a conflict starts, null when it clears. */
    private readonly onChange: (otherSeed: string | null) => void,
    private readonly intervalMs = SEED_ANNOUNCE_INTERVAL_MS,
  ) {
    this.subjects = new Subjects(namespace);
  }

  /** The other seed this server currently hears, if any. */
  get conflictingSeed(): string | null {
    return this.otherSeed;
  }

  async start(): Promise<void> {
    const own = Buffer.from(this.serverId, 'utf8');
    this.subscriptions.push(
      this.nc.subscribe(this.subjects.bootstrapSeeds(), {
        callback: (error, msg) => {
          if (error) return;
          if (msg.reply !== this.subjects.bootstrapSeedReplies()) return this.refuse(msg, 'unexpected-reply-subject');
          const other = this.announcedId(msg);
          if (other === null || other === this.serverId) return;
          this.answer(msg, own);
          this.heard(other);
        },
      }),
      this.nc.subscribe(this.subjects.bootstrapSeedReplies(), {
        callback: (error, msg) => {
          if (error) return;
          const other = this.announcedId(msg);
          if (other !== null && other !== this.serverId) this.heard(other);
        },
      }),
    );
    await this.nc.flush();
    const tick = (): void => {
      this.clearIfSilent();
      if (this.nc.isClosed() || this.nc.isDraining()) return;
      this.nc.publish(this.subjects.bootstrapSeeds(), own, { reply: this.subjects.bootstrapSeedReplies() });
    };
    tick();
    this.timer = setInterval(tick, this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const s of this.subscriptions) s.unsubscribe();
    this.subscriptions = [];
  }

  private announcedId(msg: Msg): string | null {
    const id = parseAnnouncedServerId(msg.data);
    if (id === null) this.refuse(msg, 'invalid-server-id');
    return id;
  }

  /** At most one answer per interval: a flood of announcements must not become a flood of answers. */
  private answer(msg: Msg, own: Uint8Array): void {
    const now = performance.now();
    if (now - this.lastAnswerMs < this.intervalMs) return;
    this.lastAnswerMs = now;
    try {
      msg.respond(own);
    } catch (error) {
      this.logger.debug({ err: error }, 'seed announcement not answered');
    }
  }

  private heard(other: string): void {
    this.lastHeardMs = performance.now();
    if (this.otherSeed !== null) return;
    this.otherSeed = other;
    this.logger.error({ otherSeed: other, namespace: this.subjects.namespace }, `Server ${other} was also started with raft.bootstrap.seed`);
    this.onChange(other);
  }

  private clearIfSilent(): void {
    if (this.otherSeed === null || performance.now() - this.lastHeardMs < SEED_CONFLICT_CLEARS_AFTER_INTERVALS * this.intervalMs) return;
    this.logger.info({ otherSeed: this.otherSeed }, 'no other bootstrap seed heard lately: seed conflict cleared');
    this.otherSeed = null;
    this.onChange(null);
  }

  private refuse(msg: Msg, reason: string): void {
    this.drops.drop(MessageKind.seedAnnouncement, reason, 'dropping seed announcement', { payload: bytesPreview(msg.data) });
  }
}
