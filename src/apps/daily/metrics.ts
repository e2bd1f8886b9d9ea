import { Counter, Histogram } from 'prom-client';
import type { Metrics } from '../../platform/metrics.ts';

export interface DailyMetrics {
  planned: Counter<'outcome'>;
  planDuration: Histogram;
  commands: Counter<'command'>;
}

export function createDailyMetrics(metrics: Metrics): DailyMetrics {
  const registers = [metrics.registry];
  return {
    planned: new Counter({
      name: 'daily_planned_total',
      help: 'Daily messages planned (planned, over_quota, personalised: a personal text replaced a repeat).',
      labelNames: ['outcome'],
      registers,
    }),
    planDuration: new Histogram({
      name: 'daily_plan_duration_seconds',
      help: 'How long a planning run took.',
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900],
      registers,
    }),
    commands: new Counter({
      name: 'daily_commands_total',
      help: 'Inbound SMS from subscribers by command (time, pause, invalid, help_reply, help_suppressed).',
      labelNames: ['command'],
      registers,
    }),
  };
}
