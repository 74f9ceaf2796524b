import { z } from 'zod';
import { defineEvent } from '../../../platform/events/envelope.ts';

/** user.created v1.0 (seed 002 §8.4.2) */
export const userCreatedV1 = defineEvent(
  'user.created',
  '1.0',
  z.object({
    user_id: z.uuid(),
    email: z.email(),
    full_name: z.string().nullable(),
    role: z.enum(['user', 'admin']),
    created_at: z.iso.datetime(),
  }),
);

/** user.updated v1.0: only the fields that changed, never secrets */
export const userUpdatedV1 = defineEvent(
  'user.updated',
  '1.0',
  z.object({
    user_id: z.uuid(),
    changes: z.record(z.string(), z.unknown()),
    updated_at: z.iso.datetime(),
  }),
);
