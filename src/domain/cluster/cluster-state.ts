/** A broker that belongs to the cluster, with the address clients should use (spec §2.7). */
export interface BrokerState {
  readonly id: string;
  readonly host: string;
  readonly port: number;
}
