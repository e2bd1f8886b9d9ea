// Picks each channel's driver from config: the provider when its credentials are set, the sandbox
// otherwise (config.ts refuses half-set credentials, so the sandbox is never a silent fallback).
import type { Config } from '../../config.ts';
import type { Database } from '../db/database.ts';
import { createSendGridDriver } from './email/sendgrid-driver.ts';
import { createSmtpDriver } from './email/smtp-driver.ts';
import { createSandboxDriver } from './sandbox/sandbox-driver.ts';
import { createSlackDriver } from './slack/slack-driver.ts';
import { createTwilioDriver } from './sms/twilio-driver.ts';
import type { Drivers } from './types.ts';

export function createDrivers(config: Config, db: Database): Drivers {
  const providers = createProviderDrivers(config);
  return {
    sms: providers.sms ?? createSandboxDriver('sms', db),
    email: providers.email ?? createSandboxDriver('email', db),
    slack: providers.slack ?? createSandboxDriver('slack', db),
  };
}

/** The drivers of the channels whose provider credentials are set. */
export function createProviderDrivers(config: Config): Partial<Drivers> {
  const { channels, webhooks } = config;
  const timeoutMs = channels.providerTimeoutMs;
  const readBackMax = config.outbox.readBackMaxMessages;
  const drivers: Partial<Drivers> = {};
  if (channels.sms.driver === 'twilio') {
    drivers.sms = createTwilioDriver(channels.sms, {
      timeoutMs,
      readBackMax,
      statusCallbackUrl: webhooks.publicUrl ? `${webhooks.publicUrl}/webhooks/twilio/status` : null,
    });
  }
  if (channels.email.driver === 'sendgrid')
    drivers.email = createSendGridDriver(channels.email, { timeoutMs });
  if (channels.email.driver === 'smtp') drivers.email = createSmtpDriver(channels.email, { timeoutMs });
  if (channels.slack.driver === 'slack')
    drivers.slack = createSlackDriver(channels.slack, { timeoutMs, readBackMax });
  return drivers;
}
