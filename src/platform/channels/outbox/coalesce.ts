// Calls made by the deliveries that run side by side in one worker batch are gathered into one
// database statement: every delivery still reads as "claim this row", but a batch of a hundred costs
// a few statements instead of a few hundred (the outbox's throughput is bound by statements).

/**
 * Returns `load(key)`: keys loaded within `windowMs` of each other (0: the same turn of the event
 * loop) are passed to `run` together, at most `max` at a time; each caller gets its own result or error.
 */
export function coalesce<K, V>(
  run: (keys: K[]) => Promise<Map<K, V>>,
  options: { windowMs?: number; max?: number } = {},
): (key: K) => Promise<V> {
  const max = options.max ?? 500;
  let pending: Array<{ key: K; resolve: (value: V) => void; reject: (error: unknown) => void }> = [];
  let scheduled = false;

  const flush = () => {
    scheduled = false;
    const batch = pending;
    pending = [];
    run(batch.map((item) => item.key)).then(
      (results) => {
        for (const item of batch) {
          if (results.has(item.key)) item.resolve(results.get(item.key) as V);
          else item.reject(new Error(`no result for ${String(item.key)}`));
        }
      },
      (error: unknown) => {
        for (const item of batch) item.reject(error);
      },
    );
  };

  return (key) =>
    new Promise<V>((resolve, reject) => {
      pending.push({ key, resolve, reject });
      if (pending.length >= max) return flush();
      if (scheduled) return;
      scheduled = true;
      if (options.windowMs) setTimeout(flush, options.windowMs);
      else setImmediate(flush);
    });
}
