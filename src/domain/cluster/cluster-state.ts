/** A broker that belongs to the cluster, with the address clients should use (docs/protocol.md "FetchMetadata"). */
export interface BrokerState {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  /**
   * False once the controller stopped hearing the broker's heartbeats (docs/cluster.md "Failure detection");
   * true again when they return. Unreachable brokers get no new replicas and are not listed to clients.
   */
  readonly reachable: boolean;
  /** Metadata log index of the latest change to this broker (0 in data written before versions were kept). */
  readonly version: number;
}
