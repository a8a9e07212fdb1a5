import * as grpc from '@grpc/grpc-js';
import { ApiClient, createApiClient } from '../protocol/api-service-definition';

/** Channel options: reconnect quickly after a broker restart (grpc-js defaults wait ~1-120 s). */
const DEFAULT_CHANNEL_OPTIONS: grpc.ClientOptions = {
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1000,
  'grpc.keepalive_time_ms': 30_000,
};

/** One gRPC client per broker address, created on first use and closed together. */
export class ConnectionPool {
  private readonly clients = new Map<string, ApiClient>();
  private closed = false;

  constructor(
    private readonly credentials: grpc.ChannelCredentials,
    private readonly channelOptions: grpc.ClientOptions = {},
  ) {}

  get(address: string): ApiClient {
    if (this.closed) throw new Error('connection pool closed');
    let client = this.clients.get(address);
    if (!client) {
      client = createApiClient(address, this.credentials, { ...DEFAULT_CHANNEL_OPTIONS, ...this.channelOptions });
      this.clients.set(address, client);
    }
    return client;
  }

  close(): void {
    this.closed = true;
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }
}
