// Picks each channel's driver from config: the provider when its credentials are set, the sandbox
// otherwise (config.ts refuses half-set credentials, so the sandbox is never a silent fallback).
import type { Config } from '../../config.ts';
import type { Database } from '../db/database.ts';
import type { Logger } from '../log.ts';
import { createSendGridDriver } from './email/sendgrid-driver.ts';
import { createSmtpDriver } from './email/smtp-driver.ts';
import { createSandboxDriver } from './sandbox/sandbox-driver.ts';
import { createSlackDriver } from './slack/slack-driver.ts';
import { createTwilioDriver } from './sms/twilio-driver.ts';
import type { Drivers } from './types.ts';

export function createDrivers(config: Config, db: Database, _log: Logger): Drivers {
  const { channels, webhooks } = config;
  const timeoutMs = channels.providerTimeoutMs;
  return {
    sms:
      channels.sms.driver === 'twilio'
        ? createTwilioDriver(channels.sms, {
            timeoutMs,
            statusCallbackUrl: webhooks.publicUrl ? `${webhooks.publicUrl}/webhooks/twilio/status` : null,
          })
        : createSandboxDriver('sms', db),
    email:
      channels.email.driver === 'sendgrid'
        ? createSendGridDriver(channels.email, { timeoutMs })
        : channels.email.driver === 'smtp'
          ? createSmtpDriver(channels.email, { timeoutMs })
          : createSandboxDriver('email', db),
    slack:
      channels.slack.driver === 'slack'
        ? createSlackDriver(channels.slack, { timeoutMs })
        : createSandboxDriver('slack', db),
  };
}
