import { OperabilityHttpServer, ReadinessChecks } from '../../adapters/inbound/http/operability-http-server';
import { NoMetrics } from '../../adapters/outbound/metrics/no-metrics';
import { PrometheusMetrics } from '../../adapters/outbound/metrics/prometheus-metrics';
import { Logger } from '../../application/ports/logger.port';
import { BrokerConfig } from '../config/broker-config';

/** Starts /healthz, /readyz and /metrics when `http.port` is set (docs/operability.md); null when it is not. */
export async function startOperabilityHttp(
  settings: BrokerConfig['http'],
  metrics: PrometheusMetrics | NoMetrics,
  readiness: ReadinessChecks,
  damagedPartitions: () => readonly object[],
  logger: Logger,
): Promise<OperabilityHttpServer | null> {
  if (settings.port === 0) return null;
  const http = new OperabilityHttpServer(
    {
      host: settings.host,
      port: settings.port,
      ...(metrics instanceof PrometheusMetrics ? { metrics: { contentType: metrics.registry.contentType, render: () => metrics.registry.metrics() } } : {}),
      readiness,
      damagedPartitions,
    },
    logger.child({ component: 'http' }),
  );
  await http.start();
  return http;
}
