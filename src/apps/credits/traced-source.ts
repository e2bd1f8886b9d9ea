// Each call a credit request makes to its query source (Looker, or the sandbox's sample Looks, and
// the warehouse when the rows come from Trino or PostgreSQL) as a CLIENT span of the request's job,
// so a slow Look or a failing query shows in the request's trace. With tracing off the source is
// returned as it is.
import { inSpan, SpanKind, tracingEnabled } from '../../platform/tracing/tracing.ts';
import type { LookerLink } from './links.ts';
import type { QuerySource, ResolvedQuery } from './query-source.ts';

export function tracedSource(source: QuerySource, driver: 'looker' | 'sandbox'): QuerySource {
  if (!tracingEnabled()) return source;
  const span = (attributes: Record<string, string>) => ({
    kind: SpanKind.CLIENT,
    attributes: { 'credits.source': driver, ...attributes },
  });
  return {
    queryIdOf: (link: LookerLink) =>
      inSpan(`${driver} query id`, span({ 'credits.link': link.url }), () => source.queryIdOf(link)),
    query: (queryId: string) =>
      inSpan(
        `${driver} query sql`,
        span({ 'credits.query_id': queryId }),
        async (): Promise<ResolvedQuery> => {
          const resolved = await source.query(queryId);
          return {
            ...resolved,
            rows: () =>
              inSpan(`${driver} query rows`, span({ 'credits.query_id': queryId }), () => resolved.rows()),
          };
        },
      ),
    close: () => source.close(),
  };
}
