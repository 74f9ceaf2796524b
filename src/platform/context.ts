import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** What travels with one request or one consumed message, without passing it through every call. */
export interface RequestContext {
  correlationId: string;
  /** event id of the message being handled, so events it causes can name their cause */
  causationId?: string;
  /** the authenticated caller, once a token was checked (sticky rollouts evaluate flags for them) */
  userId?: string;
  /** a stable key of the client when no user is known (its address), for sticky rollouts of anonymous reads */
  clientKey?: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

export function runWithContext<T>(ctx: RequestContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

export function currentContext(): RequestContext | undefined {
  return storage.getStore();
}

export function currentCorrelationId(): string {
  return storage.getStore()?.correlationId ?? randomUUID();
}

const CORRELATION_ID = /^[A-Za-z0-9._:\-]{1,128}$/;

/** Accept a caller's correlation id only when it is safe to log and echo; otherwise mint one. */
export function acceptCorrelationId(raw: string | undefined): string {
  return raw && CORRELATION_ID.test(raw) ? raw : randomUUID();
}
