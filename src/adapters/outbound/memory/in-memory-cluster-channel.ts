import { Observable, Subject } from 'rxjs';
import type { Cancellable } from '../../../application/ports/clock.port';
import { BrokerHeartbeat, ClusterChannel, ControllerUnreachableError, ForwardedAnswer } from '../../../application/ports/cluster-channel.port';
import type { MetadataCommand } from '../../../domain/metadata/metadata-commands';

type CommandHandler = (command: MetadataCommand) => Promise<ForwardedAnswer>;
type JoinHandler = (serverId: string) => Promise<string>;

/**
 * The cluster channel of several in-memory servers: commands and joins go to the most recent
 * server that serves them (like a NATS request answered by the one subscriber), heartbeats to all.
 */
export class InMemoryClusterHub {
  readonly commandHandlers: CommandHandler[] = [];
  readonly joinHandlers: JoinHandler[] = [];
  readonly heartbeats = new Subject<BrokerHeartbeat>();

  connect(): ClusterChannel {
    return new InMemoryClusterChannel(this);
  }
}

const removing = <T>(list: T[], item: T): Cancellable => ({
  cancel: () => {
    const i = list.indexOf(item);
    if (i >= 0) list.splice(i, 1);
  },
});

class InMemoryClusterChannel implements ClusterChannel {
  readonly heartbeats$: Observable<BrokerHeartbeat>;

  constructor(private readonly hub: InMemoryClusterHub) {
    this.heartbeats$ = hub.heartbeats.asObservable();
  }

  async forward(command: MetadataCommand): Promise<ForwardedAnswer> {
    const handler = this.hub.commandHandlers.at(-1);
    if (!handler) throw new ControllerUnreachableError('no responders');
    return handler(structuredClone(command));
  }

  async serveCommands(handler: CommandHandler): Promise<Cancellable> {
    this.hub.commandHandlers.push(handler);
    return removing(this.hub.commandHandlers, handler);
  }

  async requestJoin(serverId: string): Promise<string> {
    const handler = this.hub.joinHandlers.at(-1);
    if (!handler) throw new ControllerUnreachableError('no responders');
    return handler(serverId);
  }

  async serveJoins(handler: JoinHandler): Promise<Cancellable> {
    this.hub.joinHandlers.push(handler);
    return removing(this.hub.joinHandlers, handler);
  }

  announce(heartbeat: BrokerHeartbeat): void {
    this.hub.heartbeats.next({ ...heartbeat });
  }

  async close(): Promise<void> {}
}
