// PGlite runs in this process, and its queries resolve without ever yielding to the event loop: a
// loop of awaited queries (a scan, an import) would hold off every timer, socket and HTTP request
// of the process until it ends. This makes the instance step aside at least every few
// milliseconds, before a statement starts, so the rest of the service keeps running.
import type { PGlite } from '@electric-sql/pglite';

const SLICE_MS = 10;

export function yieldPeriodically(pglite: PGlite): void {
  let lastYield = performance.now();
  const stepAside = async () => {
    if (performance.now() - lastYield < SLICE_MS) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    lastYield = performance.now();
  };
  for (const method of ['query', 'exec', 'transaction'] as const) {
    const original = pglite[method].bind(pglite) as (...args: unknown[]) => Promise<unknown>;
    Object.defineProperty(pglite, method, {
      configurable: true,
      value: async (...args: unknown[]) => {
        await stepAside();
        return original(...args);
      },
    });
  }
}
