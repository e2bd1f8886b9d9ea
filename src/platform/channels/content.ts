import { z } from 'zod';
import type { Channel, ContentByChannel } from './types.ts';

/** What each channel's content must look like, checked at enqueue. */
export const contentSchemas = {
  sms: z.object({ body: z.string().trim().min(1).max(1600) }).strict(),
  email: z
    .object({
      subject: z.string().trim().min(1).max(998),
      text: z.string().min(1).max(1_000_000),
      html: z.string().max(5_000_000).optional(),
    })
    .strict(),
  slack: z
    .object({
      text: z.string().min(1).max(40_000),
      threadTs: z
        .string()
        .regex(/^\d+\.\d+$/)
        .optional(),
      blocks: z.array(z.unknown()).max(50).optional(),
    })
    .strict(),
} satisfies { [C in Channel]: z.ZodType<ContentByChannel[C]> };

/** A named template renders data into a channel's content (apps register theirs). */
export type Template = (data: Record<string, unknown>) => ContentByChannel[Channel];
export type TemplateRegistry = Record<string, Template>;
