// Email through any SMTP server with nodemailer. 5xx replies are permanent, 4xx and connection
// faults are retried.
import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import type { Config } from '../../../config.ts';
import { type ChannelDriver, type EmailContent, ProviderError } from '../types.ts';

type SmtpConfig = Extract<Config['channels']['email'], { driver: 'smtp' }>;

export function smtpError(error: unknown): ProviderError {
  const { responseCode, code, permanent } = error as {
    responseCode?: number;
    code?: string;
    permanent?: boolean;
  };
  return new ProviderError(`SMTP ${responseCode ?? code ?? 'error'}: ${(error as Error).message}`, {
    // nodemailer marks 5xx replies permanent; 4xx replies and connection faults are worth retrying.
    permanent: permanent ?? (responseCode !== undefined && responseCode >= 500),
    // No reply code: the connection failed, and the server may or may not have taken the message.
    unanswered: responseCode === undefined,
    ...(responseCode !== undefined
      ? { status: responseCode, code: String(responseCode) }
      : code
        ? { code }
        : {}),
    cause: error,
  });
}

export function createSmtpDriver(config: SmtpConfig, options: { timeoutMs: number }): ChannelDriver {
  const transport = nodemailer.createTransport({
    url: config.url,
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
  } as SMTPTransport.Options);
  return {
    name: 'smtp',
    channel: 'email',
    async verify() {
      try {
        await transport.verify();
      } catch (error) {
        throw smtpError(error);
      }
      return `the server accepts the connection and login; sending as ${config.from.email}`;
    },
    async send(message) {
      const content = message.content as unknown as EmailContent;
      try {
        const info = await transport.sendMail({
          from: config.from.name ? { name: config.from.name, address: config.from.email } : config.from.email,
          to: message.recipient,
          subject: content.subject,
          text: content.text,
          ...(content.html ? { html: content.html } : {}),
          headers: { 'X-Switchboard-Outbox-Id': message.id },
        });
        return { providerId: info.messageId };
      } catch (error) {
        throw smtpError(error);
      }
    },
  };
}
