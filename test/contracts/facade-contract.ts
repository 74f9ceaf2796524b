import type { ExecutionContext, TestFn } from 'ava';
import type { TestApp } from '../helpers/app.ts';

/** What a facade contract runs against: one adapter (in-process or remote) and the app hosting the module. */
export interface FacadeFixture<F> {
  facade: F;
  /** the app hosting the module (its tables are where the contract's rows are written) */
  host: TestApp;
}

export type ContractCase<F> = (title: string, fn: (t: ExecutionContext, f: FacadeFixture<F>) => Promise<void>) => void;

/** Registers a contract's cases as `<facade> facade, <adapter>: <title>`, each with the adapter's fixture. */
export function contractCases<F>(test: TestFn, label: string, fixture: () => FacadeFixture<F>): ContractCase<F> {
  return (title, fn) => test(`${label}: ${title}`, (tc) => fn(tc, fixture()));
}
