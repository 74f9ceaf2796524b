/**
 * `p` raced against `ms`: `{ done: true, value }` if it fulfils in time, `{ done: false }` otherwise (its
 * rejection, in time, is thrown). The timer is cleared the moment `p` settles, so a bound never keeps a
 * process (a CLI command, a test) alive after the work is done. `keepAlive: false` also lets the process
 * exit while still waiting — for bounds on clean-up that nothing else is waiting for.
 */
export async function raceDeadline<T>(p: Promise<T>, ms: number, options: { keepAlive?: boolean } = {}): Promise<{ done: true; value: T } | { done: false }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ done: false }>((resolve) => {
    timer = setTimeout(() => resolve({ done: false }), ms);
    if (options.keepAlive === false) timer.unref();
  });
  try {
    return await Promise.race([p.then((value) => ({ done: true as const, value })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
