import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { Logger } from '../../../application/ports/logger.port';

/** What /readyz reports. */
export interface Readiness {
  /** Every check must pass for /readyz to answer 200. */
  readonly checks: Record<string, boolean>;
  /** Why the failing checks fail, for operators (e.g. which partition's storage failed, and the error code). */
  readonly reasons: readonly string[];
}

export interface ReadinessChecks {
  readonly checks: () => Readiness;
}

export interface OperabilityHttpSettings {
  readonly host: string;
  readonly port: number;
  /** Prometheus text exposition; absent when metrics are disabled (/metrics answers 404). */
  readonly metrics?: { readonly contentType: string; render(): Promise<string> };
  readonly readiness: ReadinessChecks;
  /** Partitions holding damaged records here, as JSON-ready objects (GET /partitions/damaged). */
  readonly damagedPartitions?: () => readonly object[];
}

/**
 * The operability endpoints: `/healthz` (the process is alive), `/readyz` (connected to NATS,
 * metadata loaded, gRPC serving, storage writable: 200, else 503, with the checks and the reasons
 * as JSON), `/metrics` (Prometheus) and `/partitions/damaged` (partitions holding damaged records,
 * as JSON). Nothing else is served (docs/operability.md).
 */
export class OperabilityHttpServer {
  private readonly server: http.Server;

  constructor(
    private readonly settings: OperabilityHttpSettings,
    private readonly logger: Logger,
  ) {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 5000;
  }

  get port(): number {
    return (this.server.address() as AddressInfo | null)?.port ?? 0;
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.settings.port, this.settings.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.logger.info({ address: `${this.settings.host}:${this.port}` }, 'HTTP /metrics, /healthz, /readyz serving');
    return this.port;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed\n');
      if (path === '/healthz') return send(res, 200, 'text/plain', 'ok\n');
      if (path === '/readyz') {
        const { checks, reasons } = this.settings.readiness.checks();
        const ready = Object.values(checks).every(Boolean);
        return send(res, ready ? 200 : 503, 'application/json', `${JSON.stringify({ ready, checks, reasons })}\n`);
      }
      if (path === '/partitions/damaged' && this.settings.damagedPartitions) {
        return send(res, 200, 'application/json', `${JSON.stringify({ partitions: this.settings.damagedPartitions() })}\n`);
      }
      if (path === '/metrics' && this.settings.metrics) {
        return send(res, 200, this.settings.metrics.contentType, await this.settings.metrics.render());
      }
      return send(res, 404, 'text/plain', 'not found\n');
    } catch (error) {
      this.logger.error({ err: error, path }, 'HTTP request failed');
      return send(res, 500, 'text/plain', 'internal error\n');
    }
  }
}

function send(res: http.ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
