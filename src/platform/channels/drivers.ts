// Picks each channel's driver from config: the provider when its credentials are set, the sandbox
// otherwise (config.ts refuses half-set credentials, so the sandbox is never a silent fallback).
// A provider's driver, and with it its SDK, is imported only when it is configured: a sandbox-only
// process loads no twilio, @sendgrid, nodemailer or @slack code at all.
import type { Config } from '../../config.ts';
import type { Database } from '../db/database.ts';
import { createSandboxDriver } from './sandbox/sandbox-driver.ts';
import type { Drivers } from './types.ts';

export async function createDrivers(config: Config, db: Database): Promise<Drivers> {
  const providers = await createProviderDrivers(config);
  return {
    sms: providers.sms ?? createSandboxDriver('sms', db),
    email: providers.email ?? createSandboxDriver('email', db),
    slack: providers.slack ?? createSandboxDriver('slack', db),
  };
}

/** The drivers of the channels whose provider credentials are set. */
export async function createProviderDrivers(config: Config): Promise<Partial<Drivers>> {
  const { channels, webhooks } = config;
  const timeoutMs = channels.providerTimeoutMs;
  const readBackMax = config.outbox.readBackMaxMessages;
  const drivers: Partial<Drivers> = {};
  if (channels.sms.driver === 'twilio') {
    const { createTwilioDriver } = await import('./sms/twilio-driver.ts');
    drivers.sms = createTwilioDriver(channels.sms, {
      timeoutMs,
      readBackMax,
      statusCallbackUrl: webhooks.publicUrl ? `${webhooks.publicUrl}/webhooks/twilio/status` : null,
    });
  }
  if (channels.email.driver === 'sendgrid') {
    const { createSendGridDriver } = await import('./email/sendgrid-driver.ts');
    drivers.email = createSendGridDriver(channels.email, { timeoutMs });
  }
  if (channels.email.driver === 'smtp') {
    const { createSmtpDriver } = await import('./email/smtp-driver.ts');
    drivers.email = createSmtpDriver(channels.email, { timeoutMs });
  }
  if (channels.slack.driver === 'slack') {
    const { createSlackDriver } = await import('./slack/slack-driver.ts');
    drivers.slack = await createSlackDriver(channels.slack, { timeoutMs, readBackMax });
  }
  return drivers;
}
