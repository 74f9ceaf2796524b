/**
 * Whether an AMQP topic pattern matches a routing key, as a topic exchange decides it: words are split on
 * `.`, `*` stands for exactly one word, `#` for zero or more. The Postgres transport routes with it, so a
 * module's `bindings` mean the same with and without the broker.
 */
export function topicMatches(pattern: string, routingKey: string): boolean {
  return matchWords(pattern.split('.'), 0, routingKey.split('.'), 0);
}

function matchWords(pattern: string[], p: number, key: string[], k: number): boolean {
  if (p === pattern.length) return k === key.length;
  const word = pattern[p]!;
  if (word === '#') {
    for (let skip = k; skip <= key.length; skip++) if (matchWords(pattern, p + 1, key, skip)) return true;
    return false;
  }
  if (k === key.length) return false;
  return (word === '*' || word === key[k]) && matchWords(pattern, p + 1, key, k + 1);
}
