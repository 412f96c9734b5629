import type { EntityManager } from '@mikro-orm/postgresql';
import type { FastifyInstance } from 'fastify';
import type { Services } from '../app/services';
import { DomainError } from '../core/errors';
import { sendSuccess } from '../http/envelope';
import { routeSchema } from '../http/openapi';
import { bool, object } from '../http/rest-operation';
import { SETTLE_OUTCOMES } from './purchases.service';

export const STRIPE_WEBHOOK_PATH = '/stripe/settle';

const webhookSchema = routeSchema({
  method: 'POST',
  summary: "Stripe's webhook: a signed Checkout event (raw JSON body) settles a purchase",
  auth: ['none'],
  // Not required here: the service answers a missing signature with its own 400.
  headers: { type: 'object', properties: { 'stripe-signature': { type: 'string', description: "Stripe's signature of the exact body." } } },
  status: 200,
  data: object({ received: bool, outcome: { enum: [...SETTLE_OUTCOMES] } }),
  errors: [503],
}, 'Credits');

/**
 * Stripe's webhook: not a GraphQL operation, since the signature is checked over the exact bytes received.
 * Register it as its own (encapsulated) plugin: the raw-body JSON parser then applies to this route only.
 */
export function stripeWebhookRoutes(services: Services) {
  return async (app: FastifyInstance): Promise<void> => {
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    app.post(STRIPE_WEBHOOK_PATH, { schema: webhookSchema }, async (request, reply) => {
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
