import type { EntityManager } from '@mikro-orm/postgresql';
import type { FastifyInstance } from 'fastify';
import type { Services } from '../app/services';
import { DomainError } from '../core/errors';
import { sendSuccess } from '../http/envelope';

export const STRIPE_WEBHOOK_PATH = '/stripe/settle';

/**
 * Stripe's webhook: not a GraphQL operation, since the signature is checked over the exact bytes received.
 * Register it as its own (encapsulated) plugin: the raw-body JSON parser then applies to this route only.
 */
export function stripeWebhookRoutes(services: Services) {
  return async (app: FastifyInstance): Promise<void> => {
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    app.post(STRIPE_WEBHOOK_PATH, async (request, reply) => {
      const signature = request.headers['stripe-signature'];
      const em = services.orm.em.fork() as EntityManager;
      const outcome = await services.purchases.settle(em, request.body as Buffer, typeof signature === 'string' ? signature : undefined).catch((error: unknown) => {
        // A bad signature is a DomainError (400): `rejected`; anything else: `error`.
        services.metrics.webhookOutcome(error instanceof DomainError ? 'rejected' : 'error');
        throw error;
      });
      services.metrics.webhookOutcome(outcome);
      return sendSuccess(reply, 200, 'Stripe event received.', { received: true, outcome });
    });
  };
}
