import { ErrorCode, Msg, NatsError, Subscription } from 'nats';
import type { InternalNatsConnection } from './internal-connection';

/** NATS said nobody listens, or nobody answered in time: the caller should retry later. */
export const isNoAnswer = (error: unknown): boolean =>
  error instanceof NatsError && (error.code === ErrorCode.NoResponders || error.code === ErrorCode.Timeout);

const detail = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** A NATS request; "no answer" becomes the caller's retriable error (`unavailable`), anything else is rethrown. */
export async function requestOrUnavailable(
  nc: InternalNatsConnection,
  subject: string,
  data: Uint8Array,
  timeoutMs: number,
  unavailable: (reason: string) => Error,
): Promise<Msg> {
  try {
    return await nc.request(subject, data, { timeout: Math.max(1, Math.floor(timeoutMs)) });
  } catch (error) {
    if (isNoAnswer(error)) throw unavailable(detail(error));
    throw error;
  }
}

export interface ServeFailures {
  /** `respond` threw (connection closing). */
  replyFailed(cause: unknown, bytes: number): void;
  /** `answer` rejected. */
  handlerFailed(cause: unknown): void;
}

/**
 * Answers each request on `subject` with what `answer` returns (null: no answer). Resolves once
 * the subscription is registered on the server, so a request sent afterwards reaches it.
 */
export async function serveRequests(
  nc: InternalNatsConnection,
  subject: string,
  answer: (data: Uint8Array) => Promise<Uint8Array | null>,
  failures: ServeFailures,
  accepting: () => boolean = () => true,
): Promise<Subscription> {
  const subscription = nc.subscribe(subject, {
    callback: (error, msg) => {
      if (error || !accepting()) return;
      answer(msg.data).then(
        (reply) => {
          if (reply === null || !msg.reply) return;
          try {
            msg.respond(reply);
          } catch (cause) {
            failures.replyFailed(cause, reply.length);
          }
        },
        (cause: unknown) => failures.handlerFailed(cause),
      );
    },
  });
  await nc.flush();
  return subscription;
}
