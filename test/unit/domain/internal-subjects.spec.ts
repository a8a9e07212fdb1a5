import { ackInboxProblem, clientSubjectProblem, isInternalSubject } from '../../../src/domain/cluster/internal-subjects';

/** One rule for the servers' own subjects, used by ack inboxes and PublishToSubject. */
const NS = 'liftbridge-default';

describe('the internal subjects of a namespace', () => {
  it('are everything under "<ns>."', () => {
    for (const subject of [`${NS}.raft.metadata.propagate`, `${NS}.raft.node.a`, `${NS}.s.0.replicate`, `${NS}.notify.b`, `${NS}.ack.x`, `${NS}.raft.heartbeat`]) {
      expect(isInternalSubject(NS, subject)).toBe(true);
    }
    for (const subject of [NS, `${NS}x.a`, `x.${NS}.a`, 'orders', `${NS}.`]) expect(isInternalSubject(NS, subject)).toBe(false);
  });

  it('take no acks, except the inboxes the servers generate; nor do wildcards or invalid UTF-8', () => {
    expect(ackInboxProblem(NS, `${NS}.ack.abc.1`)).toBeNull();
    expect(ackInboxProblem(NS, 'my.inbox')).toBeNull();
    expect(ackInboxProblem(NS, `${NS}.raft.metadata.propagate`)).toBe(`subjects under "${NS}." are reserved for the servers`);
    expect(ackInboxProblem(NS, 'acks.*')).toBe('wildcards are not allowed');
    expect(ackInboxProblem(NS, 'acks.>')).toBe('wildcards are not allowed');
    expect(ackInboxProblem(NS, 'a..b')).toBe('not a valid NATS subject');
    expect(ackInboxProblem(NS, 'a b')).toBe('not a valid NATS subject');
    expect(ackInboxProblem(NS, 'acks.\ufffd')).toBe('not valid UTF-8');
  });

  it('cannot be published to by clients, acks included', () => {
    expect(clientSubjectProblem(NS, 'orders.created')).toBeNull();
    expect(clientSubjectProblem(NS, `${NS}.ack.abc.1`)).toBe(`subjects under "${NS}." are reserved for the servers`);
    expect(clientSubjectProblem(NS, `${NS}.raft.metadata.join`)).toBe(`subjects under "${NS}." are reserved for the servers`);
    expect(clientSubjectProblem(NS, 'orders.\ufffd')).toBe('not valid UTF-8');
  });
});
