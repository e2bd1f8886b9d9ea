// The daily messages' variables: the local-time window, what the model is asked, quotas, schedules.
import { z } from 'zod';
import { parseWindow, type SendingWindow } from '../../platform/channels/sms/quiet-hours.ts';
import { defineAppConfig, optional, positiveInt } from '../../platform/config/env-schema.ts';

export interface DailyConfig {
  window: SendingWindow;
  contentMode: 'audience' | 'subscriber';
  repeatHorizonDays: number;
  maxSegments: number;
  quota: number;
  planCron: string;
  cleanupCron: string;
  outboxRetentionDays: number;
  configPerMinute: number;
  prompt: string | null;
  helpText: string;
}

export const dailyConfig = defineAppConfig({
  schema: z.object({
    DAILY_WINDOW: z.string().default('12:00-17:00'),
    DAILY_CONTENT_MODE: z.enum(['audience', 'subscriber']).default('audience'),
    DAILY_REPEAT_HORIZON_DAYS: positiveInt.max(3650).default(365),
    DAILY_MAX_SEGMENTS: positiveInt.max(10).default(1),
    DAILY_QUOTA: z.coerce.number().int().min(0).max(100_000_000).default(10000),
    DAILY_PLAN_CRON: z.string().default('7 * * * *'),
    DAILY_CLEANUP_CRON: z.string().default('30 3 * * *'),
    DAILY_OUTBOX_RETENTION_DAYS: positiveInt.max(3650).default(90),
    DAILY_CONFIG_RATE_LIMIT: positiveInt.max(100000).default(30),
    DAILY_PROMPT: optional(z.string().min(10).max(2000)),
    DAILY_HELP_TEXT: z
      .string()
      .min(1)
      .max(160)
      .default('Daily messages: reply TIME 9-11 to change the hour, PAUSE 7 to pause a week, STOP to end.'),
  }),
  settings(e, { problem }): DailyConfig {
    let dailyWindow: SendingWindow = { startMinute: 12 * 60, endMinute: 17 * 60 };
    try {
      dailyWindow = parseWindow(e.DAILY_WINDOW);
    } catch (error) {
      problem('DAILY_WINDOW', (error as Error).message);
    }
    return {
      window: dailyWindow,
      contentMode: e.DAILY_CONTENT_MODE,
      repeatHorizonDays: e.DAILY_REPEAT_HORIZON_DAYS,
      maxSegments: e.DAILY_MAX_SEGMENTS,
      quota: e.DAILY_QUOTA,
      planCron: e.DAILY_PLAN_CRON,
      cleanupCron: e.DAILY_CLEANUP_CRON,
      outboxRetentionDays: e.DAILY_OUTBOX_RETENTION_DAYS,
      configPerMinute: e.DAILY_CONFIG_RATE_LIMIT,
      prompt: e.DAILY_PROMPT ?? null,
      helpText: e.DAILY_HELP_TEXT,
    };
  },
});
