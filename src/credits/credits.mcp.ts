import { z } from 'zod';
import { notFound } from '../core/errors';
import { centsToDecimal, numberToCents } from '../core/money';
import { mcpTool, type McpTool } from '../mcp/mcp-tool';
import { at } from '../mcp/output-schema';

const MONEY = '{ amount currencyCode }';
const TRANSACTION_FIELDS = `id type kind valueInCredits valueInFiat ${MONEY} balanceAfter description task { id status } createdAt`;

export const creditsMcp: McpTool[] = [
  mcpTool({
    name: 'stripe_rate',
    description: 'Credit price tiers: an amount between the limits buys `rate` credits per unit of the currency (USD).',
    input: {},
    graphql: `query { stripeRate { lowerLimit ${MONEY} upperLimit ${MONEY} rate } }`,
    present: (tiers) => ({ tiers }),
    output: (tiers) => z.object({ tiers }),
  }),
  mcpTool({
    name: 'stripe_buy',
    description: 'Start buying credits: returns a Stripe Checkout URL for the user to open and pay.',
    input: { amount: z.number().positive().describe('USD, in whole cents, e.g. 25 or 12.5'), returnPath: z.string().optional().describe('Path on the app to return to') },
    graphql: `mutation ($input: BuyCreditsInput!) { buyCredits(input: $input) { checkout { url valueInCredits valueInFiat ${MONEY} returnPath } } }`,
    variables: (input) => ({ input: { amount: centsToDecimal(numberToCents(input.amount)), returnPath: input.returnPath ?? null } }),
    present: (payload) => payload.checkout,
    output: (payload) => at(payload, 'checkout') as z.ZodObject,
    // Each call opens a new Checkout Session at Stripe; nothing is charged until the user pays there.
    effects: { destructive: false, idempotent: false, openWorld: true },
    acceptsIdempotencyKey: true,
  }),
  mcpTool({
    name: 'transactions_list',
    description: 'Your credit transactions, newest first; pass pageInfo.endCursor as `after` for the next page.',
    input: { first: z.number().int().min(1).max(100).optional(), after: z.string().optional(), type: z.enum(['CREDIT', 'DEBIT']).optional() },
    graphql: `query ($userId: ID!, $first: Int, $after: String, $type: TransactionType) {
      user(id: $userId) { transactions(first: $first, after: $after, type: $type) { edges { node { ${TRANSACTION_FIELDS} } } pageInfo { endCursor hasNextPage } } } }`,
    variables: (input, userId) => ({ userId, first: input.first ?? null, after: input.after ?? null, type: input.type ?? null }),
    present: ({ transactions }) => ({ transactions: transactions.edges.map((edge: { node: unknown }) => edge.node), pageInfo: transactions.pageInfo }),
    output: (user) => z.object({ transactions: z.array(at(user, 'transactions', 'edges', 'node')), pageInfo: at(user, 'transactions', 'pageInfo') }),
  }),
  mcpTool({
    name: 'transactions_view',
    description: 'One of your transactions.',
    input: { id: z.string() },
    graphql: `query ($id: ID!, $userId: ID!) { user(id: $userId) { transaction(id: $id) { ${TRANSACTION_FIELDS} updatedAt } } }`,
    variables: (input, userId) => ({ id: input.id, userId }),
    present: ({ transaction }) => {
      if (!transaction) throw notFound('Transaction not found.');
      return transaction;
    },
    output: (user) => at(user, 'transaction') as z.ZodObject,
  }),
];
