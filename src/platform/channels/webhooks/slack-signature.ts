// Slack signs every Events API (and interactivity) request: X-Slack-Signature is
// `v0=` + hex HMAC-SHA256 of `v0:<X-Slack-Request-Timestamp>:<raw body>` with the app's Signing
// Secret. A timestamp more than five minutes from now is refused, so a captured request cannot be
// replayed later; within the window, callers dedupe by the payload's event id.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SLACK_REPLAY_WINDOW_SECONDS = 5 * 60;

export type SlackSignatureCheck = 'valid' | 'missing' | 'invalid' | 'stale';

export function slackSignature(secret: string, timestamp: string, rawBody: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`;
}

export function checkSlackSignature(
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  rawBody: string,
  nowMs = Date.now(),
): SlackSignatureCheck {
  const signature = headers['x-slack-signature'];
  const timestamp = headers['x-slack-request-timestamp'];
  if (typeof signature !== 'string' || typeof timestamp !== 'string' || !signature || !timestamp)
    return 'missing';
  if (!/^\d{1,12}$/.test(timestamp)) return 'invalid';
  const expected = Buffer.from(slackSignature(secret, timestamp, rawBody));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
  return Math.abs(nowMs / 1000 - Number(timestamp)) <= SLACK_REPLAY_WINDOW_SECONDS ? 'valid' : 'stale';
}
