import { z } from 'zod';
import { emailAddress, text } from '../../../platform/input.ts';

const COMMON_PASSWORDS = new Set([
  'password', 'password1', 'password12', 'password123', 'passw0rd', '12345678', '123456789', '1234567890',
  'qwerty123', 'qwertyuiop', 'iloveyou1', 'letmein123', 'admin123', 'welcome1', 'changeme1', 'abc12345',
  '11111111', '00000000', 'football1', 'baseball1', 'trustno1', 'sunshine1', 'princess1', 'monkey123',
]);

export const emailSchema = emailAddress;

/** NIST-style: long enough, not a known-bad password, not a single character class. */
export const passwordSchema = z
  .string({ error: 'is required' })
  .min(8, 'must be at least 8 characters')
  .max(128, 'must be at most 128 characters')
  .refine((p) => /[A-Za-z]/.test(p) && /[^A-Za-z]/.test(p), 'must mix letters with digits or symbols')
  .refine((p) => !COMMON_PASSWORDS.has(p.toLowerCase()), 'is too common')
  .refine((p) => new Set(p).size >= 4, 'is too repetitive');

export const registerBody = z.object({
  email: emailSchema,
  password: passwordSchema,
  full_name: text(200),
});

export const loginBody = z.object({
  email: z.string({ error: 'is required' }).trim().min(1, 'is required').max(254, 'must be at most 254 characters'),
  password: z.string({ error: 'is required' }).min(1, 'is required').max(1024, 'must be at most 1024 characters'),
});

export const refreshBody = z.object({
  refresh_token: z.string({ error: 'is required' }).min(16, 'is not a refresh token').max(512, 'is not a refresh token'),
});

export type RegisterInput = z.infer<typeof registerBody>;
export type LoginInput = z.infer<typeof loginBody>;
