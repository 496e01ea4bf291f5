import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

type Labels = Record<string, string>;

/** A value read when Prometheus scrapes: labels and the number. */
export type Sample = readonly [Labels, number];

/** Upper bounds (seconds) of the service duration histogram's buckets. */
const DURATION_BUCKETS = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5];

/** One service's calls: plain numbers, bumped on every call and read at scrape time. */
interface ServiceTally {
  ok: number;
  failed: number;
  sum: number;
  /** Calls per bucket (not cumulative); the last slot is +Inf. */
  buckets: number[];
}

/** Totals since start: service calls, failed ones, and errors answered, by code. */
export interface MetricsSummary {
  readonly serviceCalls: number;
  readonly serviceErrors: number;
  readonly errors: Readonly<Record<string, number>>;
}

/**
 * The server's Prometheus metrics. Hot paths only bump plain numbers (on their own objects, or the tallies here);
 * they are turned into Prometheus series at scrape time, so serving messages pays next to nothing for metrics.
 * (prom-client's labelled children hash their labels on every call, which cost a fifth of echo throughput.)
 */
export class Metrics {
  readonly registry = new Registry();
  readonly #services = new Map<string, ServiceTally>();
  readonly #errors = new Map<string, number>();
  // `service\0kind` → errors that escaped service code outside handle().
  readonly #uncaught = new Map<string, number>();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'switchboard_' });
    this.counter('switchboard_errors_total', 'Errors answered to callers, by stable error code', ['code'], () =>
      [...this.#errors].map(([code, n]) => [{ code }, n] as const),
    );
    this.counter(
      'switchboard_service_invocations_total',
      'Service invocations, by service and outcome (ok | error)',
      ['service', 'outcome'],
      () =>
        [...this.#services].flatMap(([service, t]) => [
          [{ service, outcome: 'ok' }, t.ok] as const,
          [{ service, outcome: 'error' }, t.failed] as const,
        ]),
    );
    this.#registerDurationHistogram();
    this.counter(
      'switchboard_service_uncaught_errors_total',
      'Errors that escaped service code outside handle() (timers, events, streams, unhandled rejections), by service (or file, or none) and kind (exception | rejection)',
      ['service', 'kind'],
      () =>
        [...this.#uncaught].map(([key, n]) => {
          const [service = '', kind = ''] = key.split('\0');
          return [{ service, kind }, n] as const;
        }),
    );
  }

  /** Records one error that escaped service code (or no service: `none`) outside `handle()`. */
  uncaught(service: string, kind: string): void {
    const key = `${service}\0${kind}`;
    this.#uncaught.set(key, (this.#uncaught.get(key) ?? 0) + 1);
  }

  /** Records one service call. */
  serviceCall(service: string, seconds: number, ok: boolean): void {
    let tally = this.#services.get(service);
    if (!tally)
      this.#services.set(
        service,
        (tally = { ok: 0, failed: 0, sum: 0, buckets: new Array<number>(DURATION_BUCKETS.length + 1).fill(0) }),
      );
    if (ok) tally.ok++;
    else tally.failed++;
    tally.sum += seconds;
    let i = 0;
    while (i < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[i]!) i++;
    tally.buckets[i]!++;
  }

  // A histogram read from the tallies: cumulative `_bucket` series, `_sum` and `_count` per service.
  #registerDurationHistogram(): void {
    const name = 'switchboard_service_duration_seconds';
    const help = 'Service invocation duration, by service';
    const services = this.#services;
    const metric = {
      name,
      help,
      type: 'histogram',
      aggregator: 'sum',
      reset: () => undefined,
      get: async () => {
        const values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> = [];
        for (const [service, t] of services) {
          let cumulative = 0;
          DURATION_BUCKETS.forEach((le, i) => {
            cumulative += t.buckets[i]!;
            values.push({ metricName: `${name}_bucket`, labels: { le, service }, value: cumulative });
          });
          const count = cumulative + t.buckets[DURATION_BUCKETS.length]!;
          values.push({ metricName: `${name}_bucket`, labels: { le: '+Inf', service }, value: count });
          values.push({ metricName: `${name}_sum`, labels: { service }, value: t.sum });
          values.push({ metricName: `${name}_count`, labels: { service }, value: count });
        }
        return { name, help, type: 'histogram', aggregator: 'sum', values };
      },
    };
    this.registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  /** Records an error answered with a stable code. */
  error(code: string): void {
    this.#errors.set(code, (this.#errors.get(code) ?? 0) + 1);
  }

  /** Totals since start, for the web admin's dashboard. */
  summary(): MetricsSummary {
    let serviceCalls = 0;
    let serviceErrors = 0;
    for (const t of this.#services.values()) {
      serviceCalls += t.ok + t.failed;
      serviceErrors += t.failed;
    }
    return { serviceCalls, serviceErrors, errors: Object.fromEntries(this.#errors) };
  }

  /** Exposes the memory guard: the heap ratio it last sampled and whether it refuses connections (1) or not (0). */
  memoryGuard(guard: { readonly overloaded: boolean; readonly heapRatio: number; readonly fraction: number }): void {
    this.gauge(
      'switchboard_memory_guard_active',
      'New WebSocket connections refused because the heap is above the memory guard (1) or not (0)',
      [],
      () => [[{}, guard.overloaded ? 1 : 0]],
    );
    this.gauge(
      'switchboard_memory_guard_heap_ratio',
      'Heap in use / V8 heap limit, as last sampled by the memory guard',
      [],
      () => [[{}, guard.heapRatio]],
    );
    this.gauge('switchboard_memory_guard_fraction', 'The memory guard threshold (0: off)', [], () => [[{}, guard.fraction]]);
  }

  /** A gauge whose samples are read at scrape time. */
  gauge(
    name: string,
    help: string,
    labelNames: readonly string[],
    collect: () => Iterable<Sample> | Promise<Iterable<Sample>>,
  ): void {
    new Gauge({
      name,
      help,
      labelNames: [...labelNames],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const [labels, value] of await collect()) this.set(labels, value);
      },
    });
  }

  /** A counter whose totals are kept elsewhere and read at scrape time. */
  counter(name: string, help: string, labelNames: readonly string[], collect: () => Iterable<Sample>): void {
    new Counter({
      name,
      help,
      labelNames: [...labelNames],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [labels, value] of collect()) this.inc(labels, value);
      },
    });
  }

  /** The Prometheus text format. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}
