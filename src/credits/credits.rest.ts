import type { FastifyRequest } from 'fastify';
import { notFound } from '../core/errors';
import { centsToDecimal, numberToCents } from '../core/money';
import { toRestShape } from '../http/envelope';
import { arrayOf, fieldOf, integer, object, optionalNumber, restDate, restId, str, wholeNumber, type RestOperation } from '../http/rest-operation';
import { TRANSACTION_TYPES } from './transaction.entity';

/** The transaction's documented REST fields. */
export const TRANSACTION_FIELDS = 'id userId type description valueInCredits valueInFiat { amount } createdAt updatedAt';

type Req = FastifyRequest<{ Params: { user_id: string; transaction_id: string }; Body: Record<string, any>; Querystring: Record<string, string | undefined> }>;
const returnPath = str({ maxLength: 2000 });
/** USD as a JSON number, as documented (`value_in_fiat: 5`). */
const usd = { type: 'number', minimum: 0 };
export const restTransactionSchema = object({
  id: restId('transaction'), user_id: restId('user'), type: { enum: [...TRANSACTION_TYPES] }, description: str(),
  value_in_credits: integer, value_in_fiat: usd, created_at: restDate, updated_at: restDate,
});

/** REST documents money as a JSON number of USD (`value_in_fiat: 5`); GraphQL's Money carries it exactly. */
const fiat = (money: { amount: string }) => Number(money.amount);
export const restTransaction = (transaction: { valueInFiat: { amount: string } }) => ({ ...(toRestShape(transaction) as object), value_in_fiat: fiat(transaction.valueInFiat) });

export const creditsRest: RestOperation[] = [
  {
    method: 'GET',
    url: '/stripe/rate',
    summary: 'Credit rates: USD limits and credits per USD',
    auth: ['userToken', 'apiKey'],
    graphql: 'query { stripeRate { lowerLimit { amount } upperLimit { amount } rate } }',
    status: 200,
    message: 'Credits rate fetched successfully. Upper limit and lower limit are in fiat. Rate is in credits per dollar. Any amount beyond the limits will not be credited.',
    data: arrayOf(object({ lower_limit: usd, upper_limit: usd, rate: integer })),
    errors: [],
    present: (tiers: { lowerLimit: { amount: string }; upperLimit: { amount: string }; rate: number }[]) =>
      tiers.map((tier) => ({ lower_limit: fiat(tier.lowerLimit), upper_limit: fiat(tier.upperLimit), rate: tier.rate })),
  },
  {
    method: 'POST',
    url: '/stripe/buy',
    summary: 'Buy credits: a Stripe Checkout session to pay in',
    auth: ['userToken', 'apiKey'],
    graphql: 'mutation ($input: BuyCreditsInput!) { buyCredits(input: $input) { checkout { returnPath url valueInCredits valueInFiat { amount } } } }',
    body: object({ amount: { type: 'number' }, return_path: returnPath }, ['amount']),
    variables: (r: Req) => ({ input: { amount: centsToDecimal(numberToCents(r.body.amount)), returnPath: r.body.return_path ?? null } }),
    acceptsIdempotencyKey: true,
    status: 201,
    message: 'Checkout session created successfully.',
    data: object({ return_path: str(), url: str(), value_in_credits: integer, value_in_fiat: usd }),
    errors: [404],
    present: ({ checkout }: { checkout: { valueInFiat: { amount: string } } }) => ({ ...(toRestShape(checkout) as object), value_in_fiat: fiat(checkout.valueInFiat) }),
  },
  {
    method: 'POST',
    url: '/stripe/portal',
    summary: 'A Stripe billing portal session',
    auth: ['userToken', 'apiKey'],
    graphql: 'mutation ($input: OpenBillingPortalInput!) { portal(input: $input) { portal { url } } }',
    body: { anyOf: [object({ return_path: returnPath }, []), { type: 'null' }] },
    variables: (r: Req) => ({ input: { returnPath: r.body?.return_path ?? null } }),
    status: 201,
    message: 'Customer portal session created successfully.',
    data: object({ url: str() }),
    errors: [],
    present: fieldOf('portal'),
  },
  {
    method: 'GET',
    url: '/users/:user_id/transactions',
    summary: "The account's credit transactions, newest first (limit/offset)",
    auth: ['userToken', 'apiKey'],
    graphql: `query ($userId: ID!, $first: Int, $offset: Int, $type: TransactionType) {
      user(id: $userId) { transactions(first: $first, offset: $offset, type: $type) { edges { node { ${TRANSACTION_FIELDS} } } } } }`,
    querystring: object({ limit: wholeNumber, offset: wholeNumber, type: { enum: [...TRANSACTION_TYPES] } }, []),
    variables: (r: Req) => ({ userId: r.params.user_id, first: optionalNumber(r.query.limit), offset: optionalNumber(r.query.offset) ?? 0, type: r.query.type ?? null }),
    status: 200,
    message: 'Transactions fetched successfully.',
    data: arrayOf(restTransactionSchema),
    errors: [403, 404],
    present: (user: { transactions: { edges: { node: { valueInFiat: { amount: string } } }[] } }) => user.transactions.edges.map((edge) => restTransaction(edge.node)),
  },
  {
    method: 'GET',
    url: '/users/:user_id/transactions/:transaction_id',
    summary: 'One credit transaction',
    auth: ['userToken', 'apiKey'],
    graphql: `query ($userId: ID!, $id: ID!) { user(id: $userId) { transaction(id: $id) { ${TRANSACTION_FIELDS} } } }`,
    variables: (r: Req) => ({ userId: r.params.user_id, id: r.params.transaction_id }),
    status: 200,
    message: 'Transaction fetched successfully.',
    data: restTransactionSchema,
    errors: [403, 404],
    present: (user: { transaction: { valueInFiat: { amount: string } } | null }) => {
      if (!user.transaction) throw notFound('Transaction not found.');
      return restTransaction(user.transaction);
    },
  },
];
