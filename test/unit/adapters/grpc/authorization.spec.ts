import { status } from '@grpc/grpc-js';
import type { ClientAuthorizer } from '../../../../src/application/ports/client-authorizer.port';
import { apiServiceDefinition } from '../../../../src/protocol/api-service-definition';
import { denialFor, PublishPermission, withAuthorization } from '../../../../src/adapters/inbound/grpc/authorizing-handlers';
import { clientIdentity, NO_CLIENT_ID, notAuthorized, RPC_PERMISSIONS } from '../../../../src/adapters/inbound/grpc/rpc-permissions';

/** An authorizer over a set of "subject object action" strings, counting its decisions. */
class SetAuthorizer implements ClientAuthorizer {
  decisions = 0;
  policyVersion = 1;
  constructor(public allowed: Set<string>) {}
  isAllowed(subject: string, object: string, action: string): boolean {
    this.decisions++;
    return this.allowed.has(`${subject} ${object} ${action}`);
  }
}

/** A call whose client presented a verified certificate with this Common Name (null: none). */
const callFrom = (commonName: string | null, request: unknown = {}) => ({
  request,
  getAuthContext: () => (commonName === null ? {} : { transportSecurityType: 'ssl', sslPeerCertificate: { subject: { CN: commonName } } as never }),
  emit: jest.fn(),
});

describe('the authorization table (RPC → object, action), as Liftbridge 1.9 checks', () => {
  it('has a rule for every RPC of proto.API', () => {
    expect(Object.keys(RPC_PERMISSIONS).sort()).toEqual(Object.keys(apiServiceDefinition).sort());
  });

  it.each([
    ['CreateStream', { name: 'orders', subject: 'o' }, [['orders', 'CreateStream']]],
    ['DeleteStream', { name: 'orders' }, [['orders', 'DeleteStream']]],
    ['PauseStream', { name: 'orders', partitions: [0] }, [['orders', 'PauseStream']]],
    ['SetStreamReadonly', { name: 'orders', readonly: true }, [['orders', 'SetStreamReadonly']]],
    ['Subscribe', { stream: 'orders', partition: 1 }, [['orders', 'Subscribe']]],
    ['FetchMetadata', { streams: ['orders', 'other'] }, [['*', 'FetchMetadata']]],
    ['FetchPartitionMetadata', { stream: 'orders', partition: 0 }, [['orders', 'FetchPartitionMetadata']]],
    ['Publish', { stream: 'orders' }, [['orders', 'Publish']]],
    ['PublishAsync', { stream: 'orders' }, [['orders', 'Publish']]],
    ['PublishToSubject', { subject: 'orders.created' }, [['orders.created', 'PublishToSubject']]],
    ['SetCursor', { stream: 'orders', cursorId: 'c' }, [['orders', 'SetCursor'], ['__cursors', 'Publish']]],
    ['FetchCursor', { stream: 'orders', cursorId: 'c' }, [['orders', 'FetchCursor']]],
    ['JoinConsumerGroup', { groupId: 'g', streams: ['orders'] }, []],
    ['LeaveConsumerGroup', { groupId: 'g' }, []],
    ['FetchConsumerGroupAssignments', { groupId: 'g' }, []],
    ['ReportConsumerGroupCoordinator', { groupId: 'g' }, []],
  ] as const)('%s', (rpc, request, expected) => {
    const rule = RPC_PERMISSIONS[rpc] as (r: unknown) => readonly { object: string; action: string }[];
    expect(rule(request).map((p) => [p.object, p.action])).toEqual(expected);
  });

  it('denies with code UNKNOWN and Liftbridge\'s message', () => {
    expect(notAuthorized({ object: 'orders', action: 'Publish' })).toEqual({ code: status.UNKNOWN, details: 'The client is not authorized to call Publish on resource orders' });
    expect(NO_CLIENT_ID).toEqual({ code: status.UNKNOWN, details: 'api: Failed to retrieve client ID' });
  });

  it('takes the identity from the verified certificate\'s Common Name only', () => {
    expect(clientIdentity({ sslPeerCertificate: { subject: { CN: 'client1' } } as never })).toBe('client1');
    expect(clientIdentity({})).toBeNull(); // grpc-js gives no certificate unless it was verified
    expect(clientIdentity(null)).toBeNull();
    expect(clientIdentity({ sslPeerCertificate: { subject: { O: 'org' } } as never })).toBeNull();
    expect(clientIdentity({ sslPeerCertificate: { subject: { CN: '' } } as never })).toBeNull();
    // Several CNs: ambiguous, so no identity rather than a guess.
    expect(clientIdentity({ sslPeerCertificate: { subject: { CN: ['a', 'b'] } } as never })).toBeNull();
  });
});

describe('denialFor', () => {
  const authorizer = new SetAuthorizer(new Set(['client1 foo SetCursor', 'client1 __cursors Publish', 'client2 foo SetCursor']));

  it('allows a client that has every permission of the call', () => {
    expect(denialFor(authorizer, callFrom('client1'), RPC_PERMISSIONS.SetCursor({ stream: 'foo' } as never))).toBeNull();
  });

  it('names the first permission missing', () => {
    expect(denialFor(authorizer, callFrom('client2'), RPC_PERMISSIONS.SetCursor({ stream: 'foo' } as never))).toEqual(notAuthorized({ object: '__cursors', action: 'Publish' }));
  });

  it('refuses a call without a client identity, even one without permissions to check', () => {
    expect(denialFor(authorizer, callFrom(null), [])).toEqual(NO_CLIENT_ID);
  });
});

describe('withAuthorization', () => {
  const handlers = () => Object.fromEntries(Object.keys(apiServiceDefinition).map((name) => [name, jest.fn()]));

  it('runs a unary handler only when allowed, and answers the denial otherwise', () => {
    const inner = handlers();
    const guarded = withAuthorization(inner, new SetAuthorizer(new Set(['client1 orders CreateStream'])));
    const callback = jest.fn();
    const allowed = callFrom('client1', { name: 'orders' });
    (guarded.CreateStream as (c: unknown, cb: unknown) => void)(allowed, callback);
    expect(inner.CreateStream).toHaveBeenCalledWith(allowed, callback);
    expect(callback).not.toHaveBeenCalled();

    (guarded.CreateStream as (c: unknown, cb: unknown) => void)(callFrom('client2', { name: 'orders' }), callback);
    expect(inner.CreateStream).toHaveBeenCalledTimes(1);
    expect(callback).toHaveBeenCalledWith(notAuthorized({ object: 'orders', action: 'CreateStream' }));
  });

  it('ends a denied Subscribe with the denial before it starts', () => {
    const inner = handlers();
    const guarded = withAuthorization(inner, new SetAuthorizer(new Set()));
    const call = callFrom('client1', { stream: 'orders' });
    (guarded.Subscribe as (c: unknown) => void)(call);
    expect(inner.Subscribe).not.toHaveBeenCalled();
    expect(call.emit).toHaveBeenCalledWith('error', notAuthorized({ object: 'orders', action: 'Subscribe' }));
  });

  it('leaves PublishAsync to its handler, which checks each request', () => {
    const inner = handlers();
    expect(withAuthorization(inner, new SetAuthorizer(new Set())).PublishAsync).toBe(inner.PublishAsync);
  });
});

describe('PublishPermission (each PublishAsync request)', () => {
  it('asks the authorizer once per stream and policy version, not once per request', () => {
    const authorizer = new SetAuthorizer(new Set(['client1 foo Publish']));
    const permission = PublishPermission.of(authorizer, callFrom('client1')) as PublishPermission;
    for (let i = 0; i < 1000; i++) expect(permission.denial('foo')).toBeNull();
    expect(authorizer.decisions).toBe(1);
    expect(permission.denial('bar')).toEqual(notAuthorized({ object: 'bar', action: 'Publish' }));
    expect(permission.denial('foo')).toBeNull();
    expect(authorizer.decisions).toBe(3);

    // A reloaded policy applies to the next request of an open call.
    authorizer.allowed = new Set();
    authorizer.policyVersion++;
    expect(permission.denial('foo')).toEqual(notAuthorized({ object: 'foo', action: 'Publish' }));
  });

  it('is the denial itself for a call without a client identity', () => {
    expect(PublishPermission.of(new SetAuthorizer(new Set()), callFrom(null))).toEqual(NO_CLIENT_ID);
  });
});
