// POST /payments/:id/refunds: an operator refunds a payment (its PaymentIntent id) fully or in part.
// Behind the admin token like every operator route; the refund itself is refunds.ts.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { invalidInput } from '../../platform/errors.ts';
import type { Guard } from '../../platform/http/admin-auth.ts';
import { REFUND_REASONS, type RefundDeps, requestRefund } from './refunds.ts';

const refundSchema = z.object({
  id: z.string(),
  paymentIntentId: z.string(),
  stripeRefundId: z.string().nullable(),
  amountMinor: z.number().int(),
  currency: z.string(),
  reason: z.string().nullable(),
  status: z.string(),
  failureReason: z.string().nullable(),
  source: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export function registerRefundRoutes(app: FastifyInstance, deps: RefundDeps & { guard: Guard }): void {
  app.withTypeProvider<ZodTypeProvider>().post(
    '/payments/:id/refunds',
    {
      preHandler: deps.guard,
      schema: {
        tags: ['payments'],
        summary: 'Refund a payment fully or in part (admin token)',
        description:
          "Never more than was charged, whatever the number of refunds at once. Send an `Idempotency-Key` header to make a repeated request answer the same refund (200) instead of making another (201). `status` is Stripe's (`pending`, `succeeded`, `failed`, `canceled`, `requires_action`), or `requested` until Stripe answers; the webhook records how it ends.",
        params: z.object({
          id: z
            .string()
            .regex(/^pi_\w{1,100}$/, 'a PaymentIntent id (pi_...)')
            .describe('the payment: its PaymentIntent id'),
        }),
        body: z
          .object({
            amount_minor: z
              .number()
              .int()
              .positive()
              .max(Number.MAX_SAFE_INTEGER)
              .optional()
              .describe("in the currency's minor units; omitted: all that is left to refund"),
            reason: z.enum(REFUND_REASONS),
          })
          .strict(),
        response: { 200: z.object({ refund: refundSchema }), 201: z.object({ refund: refundSchema }) },
      },
    },
    async (request, reply) => {
      const key = idempotencyKeyOf(request.headers['idempotency-key']);
      const answer = await requestRefund(deps, {
        paymentIntentId: request.params.id,
        reason: request.body.reason,
        ...(request.body.amount_minor !== undefined ? { amountMinor: request.body.amount_minor } : {}),
        ...(key ? { requestKey: key } : {}),
      });
      return reply.status(answer.created ? 201 : 200).send({ refund: answer.refund });
    },
  );
}

/** The caller's Idempotency-Key header (read by hand: a headers schema would replace the headers). */
function idempotencyKeyOf(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const key = Array.isArray(header) ? header.join(',') : header.trim();
  if (!/^[\x21-\x7e]{1,200}$/.test(key))
    throw invalidInput('The Idempotency-Key header must be 1-200 printable characters without spaces', [
      { field: 'headers.idempotency-key', message: '1-200 printable ASCII characters, no spaces' },
    ]);
  return key;
}
