import type { MiddlewareFn } from 'type-graphql';
import { DomainError } from '../core/errors';
import type { Context } from '../graphql/context';
import { restoreAnswer, snapshotAnswer } from './answer-snapshot';
import { idempotencyScope } from './idempotency.service';

interface StoredAnswer {
  payload?: unknown;
  error?: { code: DomainError['code']; message: string; data: Record<string, unknown> | null; field: string[] | null };
}

/**
 * On a mutation whose input has `idempotencyKey` (REST's Idempotency-Key header and MCP's `idempotencyKey` argument
 * arrive here too): the first complete answer under the caller's key is kept and replayed, as a payload or as the
 * same user error; a server error frees the key. Goes inside ReturnsUserErrors, so refusals become userErrors.
 */
export const Idempotent: MiddlewareFn<Context> = async ({ args, context, info }, next) => {
  const { idempotencyKey: key, ...input } = (args.input ?? {}) as { idempotencyKey?: string | null };
  if (key === undefined || key === null) return next();
  const { em, services } = context;
  const claim = await services.idempotency.begin(em, { scope: idempotencyScope(context.caller), key, operation: info.fieldName, input });
  if ('replay' in claim) {
    context.idempotency.replayed = true;
    const { payload, error } = claim.replay as StoredAnswer;
    if (error) throw new DomainError(error.code, error.message, error.data, error.field);
    return restoreAnswer(em, payload);
  }
  let answer: StoredAnswer;
  let payload: unknown;
  try {
    payload = await next();
    answer = { payload: snapshotAnswer(em, payload) };
  } catch (error) {
    if (!(error instanceof DomainError) || error.status >= 500) {
      await services.idempotency.release(em, claim.claimed).catch((failure: unknown) => services.log.error({ err: failure }, 'freeing an idempotency key failed'));
      throw error;
    }
    answer = { error: { code: error.code, message: error.message, data: error.data, field: error.field } };
    await keep(context, claim.claimed, answer);
    throw error;
  }
  await keep(context, claim.claimed, answer);
  return payload;
};

/** The work is done: failing to record its answer must not turn it into an error (the key then stays in use until it expires). */
async function keep(context: Context, claimed: string, answer: StoredAnswer): Promise<void> {
  await context.services.idempotency.complete(context.em, claimed, answer).catch((error: unknown) => context.services.log.error({ err: error }, 'recording an idempotent answer failed'));
}
