import * as grpc from '@grpc/grpc-js';
import { Logger } from '../../../application/ports/logger.port';
import { API_SERVICE_NAME, apiServiceDefinition } from '../../../protocol/api-service-definition';
import { addHealthService } from './health-service-definition';
import type { ServerCertificates } from './server-certificates';

const SERVING = 1;
const NOT_SERVING = 2;
const SERVICE_UNKNOWN = 3;

export interface GrpcServerSettings {
  readonly host: string;
  readonly port: number;
  /** TLS (and client certificates) from these, reloadable; plaintext when null (docs/security.md). */
  readonly certificates: ServerCertificates | null;
  /** Bound on in-flight data per call and on message size (docs/reliability.md "Bad inputs", A10/A19). */
  readonly maxReceiveMessageBytes: number;
}

/** A service served beside `proto.API` on the same server and port (liftbridge-ts's own extensions). */
export interface ExtensionService {
  readonly definition: grpc.ServiceDefinition;
  readonly handlers: grpc.UntypedServiceImplementation;
}

/**
 * Owns the grpc.Server: binds, registers `proto.API`, the extension services (same TLS, same
 * port; docs/compatibility.md "Extensions") and the standard health service, reports
 * `proto.API` SERVING once started and NOT_SERVING when shutdown begins (docs/protocol.md "Service").
 */
export class GrpcApiServer {
  private readonly server: grpc.Server;
  private readonly statuses = new Map<string, number>([['', SERVING], [API_SERVICE_NAME, NOT_SERVING]]);
  private readonly watchers = new Set<{ service: string; call: grpc.ServerWritableStream<{ service: string }, unknown> }>();
  private boundPort = 0;
  private stopping: Promise<void> | null = null;
  private forced: Promise<void> | null = null;

  constructor(
    private readonly settings: GrpcServerSettings,
    handlers: grpc.UntypedServiceImplementation,
    private readonly logger: Logger,
    extensions: readonly ExtensionService[] = [],
  ) {
    this.server = new grpc.Server({
      'grpc.max_receive_message_length': settings.maxReceiveMessageBytes,
      'grpc.max_concurrent_streams': 10_000,
      'grpc.keepalive_time_ms': 60_000,
    });
    this.server.addService(apiServiceDefinition, handlers);
    for (const extension of extensions) this.server.addService(extension.definition, extension.handlers);
    addHealthService(this.server, {
      check: (call, callback) => {
        const status = this.statuses.get(call.request.service);
        if (status === undefined) callback({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
        else callback(null, { status });
      },
      watch: (call) => {
        const watcher = { service: call.request.service, call: call as unknown as grpc.ServerWritableStream<{ service: string }, unknown> };
        this.watchers.add(watcher);
        call.write({ status: this.statuses.get(watcher.service) ?? SERVICE_UNKNOWN });
        call.on('cancelled', () => this.watchers.delete(watcher));
      },
    });
  }

  /** The port actually bound (useful with port 0). */
  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<number> {
    const credentials = this.settings.certificates?.serverCredentials() ?? grpc.ServerCredentials.createInsecure();
    const address = `${this.settings.host.includes(':') ? `[${this.settings.host}]` : this.settings.host}:${this.settings.port}`;
    this.boundPort = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(address, credentials, (error, port) => (error ? reject(error) : resolve(port))),
    );
    const security = this.settings.certificates === null ? 'plaintext' : this.settings.certificates.requireClientCertificate ? 'TLS, client certificates required' : 'TLS';
    this.logger.info({ address: `${this.settings.host}:${this.boundPort}`, security }, 'gRPC API listening');
    return this.boundPort;
  }

  /** Health reports `proto.API` SERVING from now on: call once the broker is fully started. */
  markServing(): void {
    this.setStatus(API_SERVICE_NAME, SERVING);
  }

  /**
   * Reports NOT_SERVING and stops accepting calls; calls already open go on. Resolves once every
   * open call has finished. Long-lived calls (subscriptions, PublishAsync) are ended by the broker
   * (`StreamingCalls`) once leadership has moved away (controlled shutdown).
   */
  beginShutdown(): Promise<void> {
    this.stopping ??= new Promise<void>((resolve) => {
      this.setStatus(API_SERVICE_NAME, NOT_SERVING);
      for (const w of this.watchers) w.call.end();
      this.watchers.clear();
      this.server.tryShutdown(() => resolve());
    });
    return this.stopping;
  }

  /** `beginShutdown`, and the calls still open `graceMs` from now are cancelled. Resolves when none is left. */
  stop(graceMs: number): Promise<void> {
    const finished = this.beginShutdown();
    this.forced ??= new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      void finished.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    return this.forced;
  }

  private setStatus(service: string, status: number): void {
    this.statuses.set(service, status);
    for (const w of this.watchers) if (w.service === service) w.call.write({ status });
  }
}
