import { createInbox, ErrorCode, Msg, NatsConnection, NatsError, Payload, PublishOptions, RequestOptions, ServerInfo, Subscription, SubscriptionOptions } from 'nats';
import type { DroppedMessageLog } from '../../../application/diagnostics/dropped-message-log';
import type { InternalNatsConnection } from './internal-connection';
import { MAC_BYTES, MacFailure, MessageAuthenticator } from './message-authenticator';
import { MessageKind } from './subjects';

const EMPTY = new Uint8Array(0);
/** Subjects in log lines are cut to this many characters (a wildcard subscription accepts long tokens). */
const LOGGED_SUBJECT_CHARS = 128;
const NO_RESPONDERS_STATUS = 503;

interface PendingRequest {
  readonly resolve: (msg: Msg) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** A received message whose tag was checked: `data` is the payload without it; answers are signed. */
class VerifiedMsg implements Msg {
  readonly subject: string;
  readonly sid: number;
  readonly reply: string | undefined;
  readonly headers = undefined;

  constructor(
    msg: Msg,
    readonly data: Uint8Array,
    private readonly connection: AuthenticatedNatsConnection,
  ) {
    this.subject = msg.subject;
    this.sid = msg.sid;
    this.reply = msg.reply;
  }

  respond(payload?: Payload, opts?: PublishOptions): boolean {
    if (!this.reply) return false;
    this.connection.publish(this.reply, payload, opts);
    return true;
  }

  json<T>(): T {
    return JSON.parse(this.string()) as T;
  }

  string(): string {
    return Buffer.from(this.data.buffer, this.data.byteOffset, this.data.byteLength).toString('utf8');
  }
}

/**
 * A NATS connection for the cluster's internal subjects with every message authenticated
 * (docs/cluster.md "Authentication"): publishes (and answers) carry an HMAC tag over subject, reply
 * subject and payload; received messages are verified before anyone decodes them, and a message
 * without a valid tag is dropped and counted, never delivered and never answered. Requests wait
 * for the first answer with a valid tag on an inbox of their own, so a forged answer neither
 * resolves a request nor hides the real one. `info.max_payload` is reduced by the tag, so callers
 * that size messages by it keep fitting. Client traffic (stream subjects, acks) never goes through
 * this connection.
 */
export class AuthenticatedNatsConnection implements InternalNatsConnection {
  private inbox: string | null = null;
  private readonly pending = new Map<string, PendingRequest>();
  private sequence = 0;
  private rawInfo: ServerInfo | undefined;
  private adjustedInfo: ServerInfo | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly authenticator: MessageAuthenticator,
    private readonly drops: DroppedMessageLog,
    /** The kind of an internal message by subject, for the drop counts (`Subjects.kindOf`). */
    private readonly kindOf: (subject: string) => MessageKind,
    /** Where answers to our requests arrive (`Subjects.requestInboxPrefix`; nats.js's `_INBOX` when absent). */
    private readonly inboxPrefix?: string,
  ) {}

  get info(): ServerInfo | undefined {
    const info = this.nc.info;
    if (info !== this.rawInfo) {
      this.rawInfo = info;
      this.adjustedInfo = info && { ...info, max_payload: info.max_payload - MAC_BYTES };
    }
    return this.adjustedInfo;
  }

  publish(subject: string, payload?: Payload, options?: PublishOptions): void {
    if (options?.headers) throw new TypeError('headers of internal messages are not signed');
    const data = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : (payload ?? EMPTY);
    this.nc.publish(subject, this.authenticator.sign(subject, options?.reply ?? '', data), options);
  }

  subscribe(subject: string, opts?: SubscriptionOptions): Subscription {
    const callback = opts?.callback;
    if (!callback) throw new TypeError('internal subscriptions need a callback: iterators would skip verification');
    return this.nc.subscribe(subject, {
      ...opts,
      callback: (error, msg) => {
        if (error) return callback(error, msg);
        const payload = this.authenticator.verify(msg.subject, msg.reply ?? '', msg.data);
        if (typeof payload === 'string') return this.refuse(msg, payload);
        callback(null, new VerifiedMsg(msg, payload, this));
      },
    });
  }

  request(subject: string, payload?: Payload, opts?: RequestOptions): Promise<Msg> {
    if (opts?.headers) return Promise.reject(new TypeError('headers of internal messages are not signed'));
    let inbox: string;
    try {
      inbox = this.ensureInbox();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error))); // e.g. the connection is closed
    }
    const token = String(++this.sequence);
    return new Promise<Msg>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(token);
        reject(NatsError.errorForCode(ErrorCode.Timeout));
      }, opts?.timeout ?? 1000);
      this.pending.set(token, { resolve, reject, timer });
      try {
        this.publish(subject, payload, { reply: `${inbox}.${token}` });
      } catch (error) {
        this.settle(token);
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  flush(): Promise<void> {
    return this.nc.flush();
  }

  isClosed(): boolean {
    return this.nc.isClosed();
  }

  isDraining(): boolean {
    return this.nc.isDraining();
  }

  /** One wildcard subscription carries the answers of every request (as nats.js's own request mux). */
  private ensureInbox(): string {
    if (this.inbox !== null) return this.inbox;
    const inbox = createInbox(this.inboxPrefix);
    this.nc.subscribe(`${inbox}.*`, { callback: (error, msg) => (error ? undefined : this.onAnswer(inbox, msg)) });
    this.inbox = inbox;
    return inbox;
  }

  private onAnswer(inbox: string, msg: Msg): void {
    const token = msg.subject.slice(inbox.length + 1);
    if (!this.pending.has(token)) return; // late: the request already timed out or was answered
    // The NATS server's own "no responders" status has no payload to sign.
    if (msg.data.length === 0 && msg.headers?.code === NO_RESPONDERS_STATUS) {
      this.settle(token)?.reject(NatsError.errorForCode(ErrorCode.NoResponders));
      return;
    }
    const payload = this.authenticator.verify(msg.subject, msg.reply ?? '', msg.data);
    if (typeof payload === 'string') return this.refuse(msg, payload); // keep waiting for the real answer
    this.settle(token)?.resolve(new VerifiedMsg(msg, payload, this));
  }

  private settle(token: string): PendingRequest | undefined {
    const request = this.pending.get(token);
    if (!request) return undefined;
    this.pending.delete(token);
    clearTimeout(request.timer);
    return request;
  }

  private refuse(msg: Msg, reason: MacFailure): void {
    this.drops.drop(this.kindOf(msg.subject), reason, 'dropping internal message without a valid signature', {
      subject: msg.subject.slice(0, LOGGED_SUBJECT_CHARS),
      bytes: msg.data.length,
    });
  }
}
