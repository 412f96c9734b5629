import type { FastifyRequest } from 'fastify';
import { toRestShape } from '../http/envelope';
import { object, optionalNumber, str, wholeNumber, type RestOperation } from '../http/rest-operation';
import { TRANSACTION_TYPES } from './transaction.entity';

/** The transaction's documented REST fields. */
const TRANSACTION_FIELDS = 'id userId type description valueInCredits valueInFiat createdAt updatedAt';

type Req = FastifyRequest<{ Params: { user_id: string; transaction_id: string }; Body: Record<string, any>; Querystring: Record<string, string | undefined> }>;
const returnPath = str({ maxLength: 2000 });

export const creditsRest: RestOperation[] = [
  {
    method: 'GET',
    url: '/stripe/rate',
    graphql: 'query { stripeRate { lowerLimit upperLimit rate } }',
    status: 200,
    message: 'Credits rate fetched successfully. Upper limit and lower limit are in fiat. Rate is in credits per dollar. Any amount beyond the limits will not be credited.',
  },
  {
    method: 'POST',
    url: '/stripe/buy',
    graphql: 'mutation ($amount: Float!, $returnPath: String) { buyCredits(amount: $amount, returnPath: $returnPath) { returnPath url valueInCredits valueInFiat } }',
    body: object({ amount: { type: 'number' }, return_path: returnPath }, ['amount']),
    variables: (r: Req) => ({ amount: r.body.amount, returnPath: r.body.return_path ?? null }),
    status: 201,
    message: 'Checkout session created successfully.',
  },
  {
    method: 'POST',
    url: '/stripe/portal',
    graphql: 'mutation ($returnPath: String) { portal(returnPath: $returnPath) { url } }',
    body: { anyOf: [object({ return_path: returnPath }, []), { type: 'null' }] },
    variables: (r: Req) => ({ returnPath: r.body?.return_path ?? null }),
    status: 201,
    message: 'Customer portal session created successfully.',
  },
  {
    method: 'GET',
    url: '/users/:user_id/transactions',
    graphql: `query ($userId: ID!, $first: Int, $offset: Int, $type: TransactionType) {
      transactions(userId: $userId, first: $first, offset: $offset, type: $type) { edges { node { ${TRANSACTION_FIELDS} } } } }`,
    querystring: object({ limit: wholeNumber, offset: wholeNumber, type: { enum: [...TRANSACTION_TYPES] } }, []),
    variables: (r: Req) => ({ userId: r.params.user_id, first: optionalNumber(r.query.limit), offset: optionalNumber(r.query.offset) ?? 0, type: r.query.type ?? null }),
    status: 200,
    message: 'Transactions fetched successfully.',
    present: (connection: { edges: { node: object }[] }) => connection.edges.map((edge) => toRestShape(edge.node)),
  },
  {
    method: 'GET',
    url: '/users/:user_id/transactions/:transaction_id',
    graphql: `query ($userId: ID!, $id: ID!) { transaction(userId: $userId, id: $id) { ${TRANSACTION_FIELDS} } }`,
    variables: (r: Req) => ({ userId: r.params.user_id, id: r.params.transaction_id }),
    status: 200,
    message: 'Transaction fetched successfully.',
  },
];
