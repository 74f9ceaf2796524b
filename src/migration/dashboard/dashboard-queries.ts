import { z } from 'zod';
import { MODULE_NAMES } from '../../platform/config.ts';
import { FINDING_KINDS } from '../reconciliation/runs.ts';

/** The query and path parameters of the dashboard's API and pages (one definition for both). */
const id = z.string().regex(/^[1-9]\d{0,17}$/, 'must be a positive integer').transform(Number);
const limit = (max: number, fallback: number) => z.coerce.number().int().min(1).max(max).default(fallback);

export const runIdParams = z.object({ id });

export const runsQuery = z.object({
  module: z.enum(MODULE_NAMES).optional(),
  aggregate: z.string().trim().min(1).max(100).optional(),
  limit: limit(200, 50),
  before: id.optional(),
});

export const findingsQuery = z.object({
  kind: z.enum(FINDING_KINDS as [string, ...string[]]).optional(),
  limit: limit(200, 25),
  after: id.optional(),
});

export const logQuery = z.object({
  module: z.enum(MODULE_NAMES).optional(),
  limit: limit(1000, 100),
});
