import { isValidSubject } from '../stream/stream-names';

/**
 * The subjects servers of one namespace talk on among themselves: everything under `<ns>.>` (Raft,
 * replication, partition notifications, heartbeats, forwarded commands, server-generated ack
 * inboxes; docs/cluster.md). Clients must not publish there, nor have acks sent there.
 */
export function isInternalSubject(namespace: string, subject: string): boolean {
  return subject.length > namespace.length + 1 && subject.charCodeAt(namespace.length) === 0x2e && subject.startsWith(namespace);
}

/** `<ns>.ack.<id>`: inboxes the servers generate for their own publishes; the one internal place acks may go to. */
function isServerAckInbox(namespace: string, subject: string): boolean {
  return isInternalSubject(namespace, subject) && subject.startsWith('ack.', namespace.length + 1);
}

/** Why `subject` is not one concrete subject to publish on, or null. U+FFFD is what invalid UTF-8 decodes to. */
function concreteSubjectProblem(subject: string): string | null {
  if (subject.includes('\ufffd')) return 'not valid UTF-8';
  if (!isValidSubject(subject)) return 'not a valid NATS subject';
  if (subject.includes('*') || subject.includes('>')) return 'wildcards are not allowed';
  return null;
}

const reserved = (namespace: string): string => `subjects under "${namespace}." are reserved for the servers`;

/**
 * Why a server must not send acks to `inbox`, or null when it may (docs/reliability.md "Bad inputs", B15): a
 * wildcard would fan acks out, an internal subject would inject them into the servers' own
 * protocol, and invalid UTF-8 means the subject is not the one the client chose.
 */
export function ackInboxProblem(namespace: string, inbox: string): string | null {
  const problem = concreteSubjectProblem(inbox);
  if (problem !== null) return problem;
  return isInternalSubject(namespace, inbox) && !isServerAckInbox(namespace, inbox) ? reserved(namespace) : null;
}

/** Why a client may not publish on `subject` (PublishToSubject), or null: the servers' own subjects are refused. */
export function clientSubjectProblem(namespace: string, subject: string): string | null {
  return concreteSubjectProblem(subject) ?? (isInternalSubject(namespace, subject) ? reserved(namespace) : null);
}
