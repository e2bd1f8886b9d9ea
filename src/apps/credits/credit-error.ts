// Why a request could not be answered, in words an operator can act on, and whether trying again
// later can help (a Looker 503 can; a deleted Look or a failing notebook cell cannot).

export type CreditErrorCode =
  | 'looker_auth'
  | 'query_not_found'
  | 'looker_unavailable'
  | 'looker_query_failed'
  | 'runner_failed'
  | 'bad_rows'
  | 'notebook_failed'
  /** The notebook ran but what it says under Summary Info is not one clear credit. */
  | 'notebook_summary'
  | 'timeout'
  | 'no_links'
  | 'no_readable_links';

export class CreditError extends Error {
  readonly code: CreditErrorCode;
  readonly transient: boolean;
  constructor(
    code: CreditErrorCode,
    message: string,
    options: { transient?: boolean; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'CreditError';
    this.code = code;
    this.transient = options.transient ?? false;
  }
}

/** Anything thrown that is not a CreditError is a bug or an unexpected fault: retried, then reported. */
export const isTransient = (error: unknown) => !(error instanceof CreditError) || error.transient;
