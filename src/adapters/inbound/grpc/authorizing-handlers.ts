import type { sendUnaryData, ServerUnaryCall, ServerWritableStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { ClientAuthorizer } from '../../../application/ports/client-authorizer.port';
import { ApiRpcName, clientIdentity, Denial, NO_CLIENT_ID, notAuthorized, Permission, RPC_PERMISSIONS } from './rpc-permissions';

type AuthContextSource = { getAuthContext(): Parameters<typeof clientIdentity>[0] };

/** The first permission `identity` lacks, as the denial to answer; null when it has them all. */
export function denialFor(authorizer: ClientAuthorizer, call: AuthContextSource, permissions: readonly Permission[]): Denial | null {
  const identity = clientIdentity(call.getAuthContext());
  if (identity === null) return NO_CLIENT_ID;
  for (const permission of permissions) {
    if (!authorizer.isAllowed(identity, permission.object, permission.action)) return notAuthorized(permission);
  }
  return null;
}

/**
 * The `proto.API` handlers behind the authorization table (docs/security.md "Authorization"):
 * every call is checked before its handler runs; a denied call never reaches it. PublishAsync is
 * left to its handler, which checks each request (`PublishPermission`).
 */
export function withAuthorization(handlers: UntypedServiceImplementation, authorizer: ClientAuthorizer): UntypedServiceImplementation {
  const guarded: UntypedServiceImplementation = { ...handlers };
  for (const name of Object.keys(RPC_PERMISSIONS) as ApiRpcName[]) {
    if (name === 'PublishAsync') continue;
    const rule = RPC_PERMISSIONS[name] as (request: unknown) => readonly Permission[];
    const inner = handlers[name];
    if (inner === undefined) throw new Error(`no handler for ${name}`);
    guarded[name] =
      name === 'Subscribe'
        ? (call: ServerWritableStream<unknown, unknown>) => {
            const denial = denialFor(authorizer, call, rule(call.request));
            if (denial === null) (inner as (c: typeof call) => void)(call);
            else call.emit('error', denial);
          }
        : (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
            const denial = denialFor(authorizer, call, rule(call.request));
            if (denial === null) (inner as (c: typeof call, cb: typeof callback) => void)(call, callback);
            else callback(denial);
          };
  }
  return guarded;
}

/**
 * The Publish check of one PublishAsync call: the identity is read once per call, and the last
 * decision is kept with the stream and policy version it was made for, so that a run of requests
 * to one stream costs a string and an integer compare each (the publish hot path).
 */
export class PublishPermission {
  private stream: string | null = null;
  private version = 0;
  private allowed = false;

  private constructor(
    private readonly authorizer: ClientAuthorizer,
    private readonly identity: string,
  ) {}

  /** The permission of this call's client, or the denial that ends the call (no identity). */
  static of(authorizer: ClientAuthorizer, call: AuthContextSource): PublishPermission | Denial {
    const identity = clientIdentity(call.getAuthContext());
    return identity === null ? NO_CLIENT_ID : new PublishPermission(authorizer, identity);
  }

  /** The denial of a publish to `stream`, or null when allowed. */
  denial(stream: string): Denial | null {
    if (stream !== this.stream || this.authorizer.policyVersion !== this.version) {
      this.allowed = this.authorizer.isAllowed(this.identity, stream, 'Publish');
      this.stream = stream;
      this.version = this.authorizer.policyVersion;
    }
    return this.allowed ? null : notAuthorized({ object: stream, action: 'Publish' });
  }
}
