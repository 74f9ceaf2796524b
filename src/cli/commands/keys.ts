import type { Command } from 'commander';
import { rotateSigningKeys } from '../../modules/auth/index.ts';
import { Databases } from '../../platform/db.ts';
import { cliContext, CliError, positiveInt } from '../context.ts';

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('JWT signing keys');
  keys
    .command('rotate')
    .description(
      'make a new signing key active; the previous one stays in the JWKS for the overlap so tokens it signed keep verifying',
    )
    .option('--dir <dir>', 'key directory (default: JWT_KEYS_DIR)')
    .option('--overlap <seconds>', 'how long the previous key stays published (>= ACCESS_TOKEN_TTL_SECONDS)', positiveInt('--overlap', 1))
    .option('--no-audit', 'do not record the rotation in auth.audit_log (no database needed)')
    .action(async (opts: { dir?: string; overlap?: number; audit: boolean }) => {
      const { config, out } = cliContext();
      const databases = opts.audit ? new Databases({ ...config, DB_POOL_MAX: 1 }) : undefined;
      try {
        const result = await rotateSigningKeys({
          dir: opts.dir ?? config.JWT_KEYS_DIR,
          overlapSeconds: opts.overlap ?? Math.max(3600, config.ACCESS_TOKEN_TTL_SECONDS * 2),
          accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
          ...(databases ? { db: databases.forModule('auth') } : {}),
          actor: `cli:${process.env['USER'] ?? 'unknown'}`,
        });
        out(`active key: ${result.activeKid}`);
        for (const kid of result.retiringKids) out(`still published until ${result.retireAt}: ${kid}`);
        for (const kid of result.droppedKids) out(`dropped: ${kid}`);
      } catch (err) {
        if (err instanceof RangeError) throw new CliError(err.message, 2);
        throw err;
      } finally {
        await databases?.closeAll();
      }
    });
}
