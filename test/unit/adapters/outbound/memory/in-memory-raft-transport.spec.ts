import { InMemoryRaftHub } from '../../../../../src/adapters/outbound/memory/in-memory-raft-transport';
import type { RaftMessage } from '../../../../../src/domain/consensus/raft';

const heartbeat = (from: string, to: string, commit = 1): RaftMessage => ({ type: 'Heartbeat', from, to, term: 1, commit });

function collect(hub: InMemoryRaftHub, id: string): { transport: ReturnType<InMemoryRaftHub['connect']>; received: RaftMessage[]; completed: () => boolean } {
  const transport = hub.connect(id);
  const received: RaftMessage[] = [];
  let done = false;
  transport.inbound$.subscribe({ next: (m) => received.push(m), complete: () => (done = true) });
  return { transport, received, completed: () => done };
}

describe('InMemoryRaftTransport', () => {
  it('routes each message to its destination, in send order', () => {
    const hub = new InMemoryRaftHub();
    const a = collect(hub, 'a');
    const b = collect(hub, 'b');
    const c = collect(hub, 'c');
    a.transport.send([heartbeat('a', 'b', 1), heartbeat('a', 'c', 2), heartbeat('a', 'b', 3)]);
    c.transport.send([heartbeat('c', 'a', 4)]);
    expect(b.received).toEqual([heartbeat('a', 'b', 1), heartbeat('a', 'b', 3)]);
    expect(c.received).toEqual([heartbeat('a', 'c', 2)]);
    expect(a.received).toEqual([heartbeat('c', 'a', 4)]);
  });

  it('loses messages to unknown or unreachable servers and counts them', () => {
    const hub = new InMemoryRaftHub();
    const a = collect(hub, 'a');
    const b = collect(hub, 'b');
    a.transport.send([heartbeat('a', 'nobody')]);
    hub.setReachable('b', false);
    a.transport.send([heartbeat('a', 'b')]);
    hub.setReachable('b', true);
    a.transport.send([heartbeat('a', 'b', 2)]);
    expect(b.received).toEqual([heartbeat('a', 'b', 2)]);
    expect(hub.lost).toBe(2);
  });

  it('close completes inbound$, stops delivery both ways and frees the id', async () => {
    const hub = new InMemoryRaftHub();
    const a = collect(hub, 'a');
    const b = collect(hub, 'b');
    await b.transport.close();
    expect(b.completed()).toBe(true);
    a.transport.send([heartbeat('a', 'b')]);
    b.transport.send([heartbeat('b', 'a')]);
    expect(b.received).toEqual([]);
    expect(a.received).toEqual([]);
    await b.transport.close(); // idempotent
    const b2 = collect(hub, 'b');
    a.transport.send([heartbeat('a', 'b')]);
    expect(b2.received).toEqual([heartbeat('a', 'b')]);
  });

  it('refuses two open transports under one id', () => {
    const hub = new InMemoryRaftHub();
    hub.connect('a');
    expect(() => hub.connect('a')).toThrow(/already connected/);
  });
});
