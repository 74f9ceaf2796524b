import type { ModuleName } from '../platform/config.ts';
import type { FlagContext, FlagName } from '../platform/flags.ts';
import type { Side } from '../platform/mapping/aggregate-mapping.ts';

/**
 * A module's path off the shared tables (design brief §6). BACKFILLED has no flag: it is DUAL_WRITE
 * with a finished backfill on record. EXTRACTED (its own deployment) stores data as NEW_ONLY does.
 */
export const PHASES = ['LEGACY', 'DUAL_WRITE', 'BACKFILLED', 'SHADOW_READ', 'READ_NEW', 'NEW_ONLY', 'EXTRACTED'] as const;
export type Phase = (typeof PHASES)[number];

export const phaseIndex = (p: Phase): number => PHASES.indexOf(p);

/** The flags behind a module's phases; the names are checked against feature-flags/flags.yaml at compile time. */
export function phaseFlags(m: ModuleName) {
  return {
    dualWrite: `dual_write_${m}_db`,
    verifyReads: `verify_${m}_reads`,
    readNew: `read_from_new_${m}_db`,
    stopLegacyWrites: `stop_legacy_writes_${m}`,
    routeToService: `route_${m}_to_service`,
  } as const satisfies Record<string, FlagName>;
}

/**
 * READ_NEW rolls reads out to a share of users (sticky), but writes go to the own schema for everyone
 * as soon as any share is on. Unleash evaluates one flag per context, so the write path is evaluated for
 * this reserved pseudo-user, which `boxoffice cutover` always includes in the flag's strategy.
 */
export const WRITE_PATH_USER = 'boxoffice:write-path';

export interface FlagReader {
  isEnabled(name: FlagName, context?: FlagContext): boolean;
}

/** Where a module's calls go right now, as this process's flags say. */
export interface ModuleRoute {
  phase: Exclude<Phase, 'BACKFILLED'>;
  /** the write primary */
  writes: Side;
  /** whether the other side is kept equal (this process then holds a dual-write lease) */
  dualWrite: boolean;
  /** shadow reads: compare each read with the other side */
  shadow: boolean;
  /** READ_NEW: whether a read for this context goes to the own schema */
  readsOwn(context: FlagContext): boolean;
}

const always = () => true;
const never = () => false;

export function resolveRoute(flags: FlagReader, m: ModuleName): ModuleRoute {
  const f = phaseFlags(m);
  // where the data lives follows the storage flags alone: the routing flag (EXTRACTED, a sticky share of
  // users) moves requests between deployments, never a write between sides
  if (flags.isEnabled(f.stopLegacyWrites)) {
    return { phase: flags.isEnabled(f.routeToService, { userId: WRITE_PATH_USER }) ? 'EXTRACTED' : 'NEW_ONLY', writes: 'own', dualWrite: false, shadow: false, readsOwn: always };
  }
  const shadow = flags.isEnabled(f.verifyReads);
  if (flags.isEnabled(f.readNew, { userId: WRITE_PATH_USER })) {
    return { phase: 'READ_NEW', writes: 'own', dualWrite: true, shadow, readsOwn: (context) => flags.isEnabled(f.readNew, context) };
  }
  if (flags.isEnabled(f.dualWrite)) {
    return { phase: shadow ? 'SHADOW_READ' : 'DUAL_WRITE', writes: 'legacy', dualWrite: true, shadow, readsOwn: never };
  }
  return { phase: 'LEGACY', writes: 'legacy', dualWrite: false, shadow: false, readsOwn: never };
}
