import * as grpc from '@grpc/grpc-js';
import { Bytes, toBuffer } from './types';

/** TLS to the servers (docs/client.md "TLS"). PEM contents, not file names. */
export interface ClientTlsOptions {
  /** CA certificates that verify the servers' certificates; default: Node's root CAs. */
  readonly ca?: Bytes;
  /** A client certificate and its key, for servers that require one (mutual TLS); both or neither. */
  readonly cert?: Bytes;
  readonly key?: Bytes;
}

/**
 * grpc-js credentials that verify the server: its certificate must chain to `ca` and name the
 * host the client connects to (grpc-js checks both; there is no option to skip the check).
 */
export function tlsCredentials(tls: ClientTlsOptions): grpc.ChannelCredentials {
  if ((tls.cert === undefined) !== (tls.key === undefined)) throw new RangeError('tls.cert and tls.key go together: give both or neither');
  return grpc.credentials.createSsl(
    tls.ca === undefined ? null : toBuffer(tls.ca),
    tls.key === undefined ? null : toBuffer(tls.key),
    tls.cert === undefined ? null : toBuffer(tls.cert),
  );
}
