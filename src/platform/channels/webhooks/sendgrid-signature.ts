// SendGrid signs each Event Webhook batch with ECDSA (P-256, SHA-256) over timestamp + raw body;
// the SDK's EventWebhook checks it against the public key from SendGrid's settings. The timestamp
// must be recent: an old, validly signed batch is a replay.
import { EventWebhook, EventWebhookHeader } from '@sendgrid/eventwebhook';

export const REPLAY_WINDOW_MS = 5 * 60 * 1000;

export type SendGridCheck = 'valid' | 'missing' | 'invalid' | 'stale';

export function createSendGridVerifier(publicKey: string) {
  const webhook = new EventWebhook();
  const key = webhook.convertPublicKeyToECDSA(publicKey);
  return (
    headers: Record<string, string | string[] | undefined>,
    rawBody: string,
    now = Date.now(),
  ): SendGridCheck => {
    const signature = headers[EventWebhookHeader.SIGNATURE().toLowerCase()];
    const timestamp = headers[EventWebhookHeader.TIMESTAMP().toLowerCase()];
    if (typeof signature !== 'string' || typeof timestamp !== 'string' || !signature || !timestamp)
      return 'missing';
    let valid = false;
    try {
      valid = webhook.verifySignature(key, rawBody, signature, timestamp);
    } catch {
      valid = false;
    }
    if (!valid) return 'invalid';
    const sentAt = Number(timestamp) * 1000;
    return Number.isFinite(sentAt) && Math.abs(now - sentAt) <= REPLAY_WINDOW_MS ? 'valid' : 'stale';
  };
}
