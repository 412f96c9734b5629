/**
 * One operation of the SDK, as generated from sdk/operations/*.graphql: its text exactly as sent, and its id
 * in the trusted-documents manifest (the SHA-256 hex of that text). `TResult` is what the client answers: the
 * operation's root field (a mutation's payload), or the whole data when it has several root fields.
 */
export interface ClaraOperation<TResult, TVariables> {
  readonly id: string;
  readonly name: string;
  readonly type: 'query' | 'mutation' | 'subscription';
  readonly rootField: string | null;
  readonly body: string;
  /** Type-only: carries the result and variables types; never set. */
  readonly __types?: { result: TResult; variables: TVariables };
}

export type RunOperation = <TResult, TVariables>(operation: ClaraOperation<TResult, TVariables>, variables: TVariables) => Promise<TResult>;

/** What a subscription hands over: each value (its root field), a typed error, and its end. */
export interface SubscriptionHandlers<TResult> {
  next(value: TResult): void;
  error?(error: import('./errors').ClaraError): void;
  complete?(): void;
}

/** Starts a subscription; answers the function that ends it. */
export type SubscribeOperation = <TResult, TVariables>(operation: ClaraOperation<TResult, TVariables>, variables: TVariables, handlers: SubscriptionHandlers<TResult>) => () => void;
