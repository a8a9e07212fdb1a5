import * as grpc from '@grpc/grpc-js';
import { createApiClient } from '../../src/protocol/api-service-definition';
import { ChildRegistry } from './children';
import { pollUntil } from './deadline';
import { startLiftbridge, type StartedLiftbridge } from './liftbridge-server';

const SERVER_IDS = ['a', 'b', 'c'] as const;

export interface StartedLiftbridgeCluster {
  /** The seed first, then the two servers that joined it. */
  readonly servers: readonly StartedLiftbridge[];
}

/**
 * Starts a three-server liftbridge-ts cluster on `natsUrl`: the seed (bootstraps the metadata Raft
 * group), then two servers that auto-join it (each started only once the previous one serves, so
 * the joiners find the seed). Resolves when FetchMetadata on the last joiner lists three brokers.
 */
export async function startLiftbridgeCluster(children: ChildRegistry, workDir: string, natsUrl: string): Promise<StartedLiftbridgeCluster> {
  const namespace = `benchrepl${process.pid}`;
  const servers: StartedLiftbridge[] = [];
  for (const [i, serverId] of SERVER_IDS.entries()) {
    servers.push(await startLiftbridge(children, workDir, natsUrl, { label: `cluster-${serverId}`, cluster: { serverId, namespace, seed: i === 0 } }));
  }
  const joiner = createApiClient(servers[servers.length - 1]!.address, grpc.credentials.createInsecure());
  let brokers = 0;
  try {
    await pollUntil(
      () =>
        new Promise<boolean>((resolve) =>
          joiner.fetchMetadata({}, { deadline: Date.now() + 1_000 }, (error, response) => {
            brokers = error || !response ? brokers : response.brokers.length;
            resolve(brokers === SERVER_IDS.length);
          }),
        ),
      30_000,
      `${SERVER_IDS.length} brokers in the liftbridge-ts cluster`,
      100,
    );
  } catch (error) {
    const logs = servers.map((s) => `--- ${s.child.name} output ---\n${s.child.logs}`).join('\n');
    throw new Error(`${(error as Error).message} (last seen: ${brokers})\n${logs}`);
  } finally {
    joiner.close();
  }
  return { servers };
}
