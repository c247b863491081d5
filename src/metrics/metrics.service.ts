import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The Prometheus registry and every metric the engine exports at /metrics. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by route pattern',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly jobDuration = new Histogram({
    name: 'queue_job_duration_seconds',
    help: 'Job run time by queue, job name and outcome',
    labelNames: ['queue', 'job', 'status'] as const,
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
    registers: [this.registry],
  });

  readonly queueDepth = new Gauge({
    name: 'queue_jobs',
    help: 'Jobs per queue and state, sampled at scrape time',
    labelNames: ['queue', 'state'] as const,
    registers: [this.registry],
  });

  readonly sessionTransitions = new Counter({
    name: 'session_transitions_total',
    help: 'Session state changes by target state',
    labelNames: ['to'] as const,
    registers: [this.registry],
  });

  readonly terminalsOpen = new Gauge({
    name: 'terminal_shells_open',
    help: 'Candidate shells running in this process (connected or within their grace)',
    registers: [this.registry],
  });

  readonly terminalConnections = new Gauge({
    name: 'terminal_connections_open',
    help: 'Browser terminals connected to this process',
    registers: [this.registry],
  });

  readonly terminalBytes = new Counter({
    name: 'terminal_bytes_total',
    help: 'Terminal bytes by direction (in: typed by candidates, out: printed by shells)',
    labelNames: ['direction'] as const,
    registers: [this.registry],
  });

  readonly terminalReconnects = new Counter({
    name: 'terminal_reconnects_total',
    help: 'Connections that took over a running shell (reloads, new tabs, dropped networks)',
    registers: [this.registry],
  });

  readonly terminalKills = new Counter({
    name: 'terminal_shell_ends_total',
    help: 'Shells ended, by reason (deadline, submitted, ended, grace, exit, shutdown, error)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly terminalStart = new Histogram({
    name: 'terminal_shell_start_seconds',
    help: 'Time to start a shell (kubeconfig, jail, relay)',
    buckets: [0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
