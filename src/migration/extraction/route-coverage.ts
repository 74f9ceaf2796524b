import type { Router } from '@koa/router';
import type { ModuleName } from '../../platform/config.ts';

const covered = (path: string, prefix: string): boolean => path === prefix || path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`);

/**
 * The public routes a module serves that its declared `publicPaths` would not send to its own deployment,
 * and the routes of one module that another module's paths would take: either way, EXTRACTED would leave
 * a route behind or send it to the wrong service. `/internal/…` routes are not public (they are called
 * service to service, never routed).
 */
export function uncoveredRoutes(modules: readonly { name: ModuleName; routes: readonly Router[] }[], publicPaths: (m: ModuleName) => readonly string[]): string[] {
  const problems: string[] = [];
  for (const m of modules) {
    for (const router of m.routes) {
      for (const layer of router.stack) {
        const path = String(layer.path);
        // middleware layers (router.use) answer nothing themselves
        if (layer.methods.length === 0 || path.startsWith('/internal/')) continue;
        if (!publicPaths(m.name).some((p) => covered(path, p))) problems.push(`${m.name}: ${layer.methods.join(',')} ${path} is outside its publicPaths`);
        for (const other of modules) {
          if (other.name !== m.name && publicPaths(other.name).some((p) => covered(path, p))) problems.push(`${m.name}: ${path} falls under ${other.name}'s publicPaths`);
        }
      }
    }
  }
  return problems;
}
