import { PrometheusMetrics } from '../../../../../src/adapters/outbound/metrics/prometheus-metrics';

describe('activity stream metrics (docs/operability.md "Metrics")', () => {
  it('counts the events published and reads the lag when collected', async () => {
    const metrics = new PrometheusMetrics({ processMetrics: false });
    expect(await metrics.registry.metrics()).toContain('liftbridge_activity_lag_events 0');

    let lag = 3;
    metrics.watchActivityLag(() => lag);
    metrics.activityPublished();
    metrics.activityPublished();
    const first = await metrics.registry.metrics();
    expect(first).toContain('liftbridge_activity_events_published_total 2');
    expect(first).toContain('liftbridge_activity_lag_events 3');

    lag = 0;
    expect(await metrics.registry.metrics()).toContain('liftbridge_activity_lag_events 0');
  });
});
