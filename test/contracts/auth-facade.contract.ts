import type { TestFn } from 'ava';
import type { AuthFacade } from '../../src/modules/auth/index.ts';
import { UnauthorizedError } from '../../src/platform/errors.ts';
import { registerAndLogin } from '../helpers/app.ts';
import { contractCases, type FacadeFixture } from './facade-contract.ts';

export type AuthFixture = FacadeFixture<AuthFacade>;

/** One contract for every AuthFacade adapter: what the platform's token check and the admin pages rely on. */
export function authFacadeContract(test: TestFn, name: string, fixture: () => AuthFixture): void {
  const t = contractCases(test, `auth facade, ${name}`, fixture);

  t('the JWKS: public RSA keys only, including the one tokens are signed with now', async (tc, f) => {
    const { access } = await registerAndLogin(f.host.url, 'jwks');
    const kid = JSON.parse(Buffer.from(access.split('.')[0]!, 'base64url').toString()).kid as string;
    const jwks = await f.facade.getJwks();
    tc.true(jwks.keys.length >= 1);
    tc.true(jwks.keys.some((k) => k['kid'] === kid));
    tc.true(jwks.keys.every((k) => k['kty'] === 'RSA' && k['d'] === undefined));
  });

  t('verifyToken: the user behind a good token; a bad one is a 401 error', async (tc, f) => {
    const { access, id, user } = await registerAndLogin(f.host.url, 'verify');
    tc.like(await f.facade.verifyToken(access), { userId: id, email: user.email, roles: ['user'] });
    await tc.throwsAsync(f.facade.verifyToken(`${access.slice(0, -4)}AAAA`), { instanceOf: UnauthorizedError });
  });

  t('login: an access token for the right password, a 401 error for a wrong one', async (tc, f) => {
    const { id, user } = await registerAndLogin(f.host.url, 'login');
    const meta = { ip: '10.9.8.7' };
    const { accessToken, expiresIn } = await f.facade.login({ email: user.email, password: user.password }, meta);
    tc.true(expiresIn > 0);
    tc.is((await f.facade.verifyToken(accessToken)).userId, id);
    await tc.throwsAsync(f.facade.login({ email: user.email, password: `${user.password}x` }, meta), { instanceOf: UnauthorizedError });
  });
}
