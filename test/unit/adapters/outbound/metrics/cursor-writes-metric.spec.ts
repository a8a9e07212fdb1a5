import { PrometheusMetrics } from '../../../../../src/adapters/outbound/metrics/prometheus-metrics';

describe('liftbridge_cursor_writes_total', () => {
  it('counts SetCursor writes by result', async () => {
    const metrics = new PrometheusMetrics();
    metrics.cursorWritten(true);
    metrics.cursorWritten(true);
    metrics.cursorWritten(false);

    const text = await metrics.registry.metrics();
    expect(text).toContain('liftbridge_cursor_writes_total{result="ok"} 2');
    expect(text).toContain('liftbridge_cursor_writes_total{result="failed"} 1');
  });
});
