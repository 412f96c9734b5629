import { z } from 'zod';
import { mcpTool, type McpTool } from '../mcp/mcp-tool';
import { at } from '../mcp/output-schema';

const TRANSACTION_FIELDS = 'id type kind valueInCredits valueInFiat balanceAfter description reference createdAt';

export const creditsMcp: McpTool[] = [
  mcpTool({
    name: 'stripe_rate',
    description: 'Credit price tiers: a USD amount between the limits buys `rate` credits per USD.',
    input: {},
    graphql: 'query { stripeRate { lowerLimit upperLimit rate } }',
    present: (tiers) => ({ tiers }),
    output: (tiers) => z.object({ tiers }),
  }),
  mcpTool({
    name: 'stripe_buy',
    description: 'Start buying credits: returns a Stripe Checkout URL for the user to open and pay.',
    input: { amount: z.number().positive().describe('USD, in whole cents'), returnPath: z.string().optional().describe('Path on the app to return to') },
    graphql: 'mutation ($amount: Float!, $returnPath: String) { buyCredits(amount: $amount, returnPath: $returnPath) { url valueInCredits valueInFiat returnPath } }',
    variables: (input) => ({ amount: input.amount, returnPath: input.returnPath ?? null }),
    // Each call opens a new Checkout Session at Stripe; nothing is charged until the user pays there.
    effects: { destructive: false, idempotent: false, openWorld: true },
  }),
  mcpTool({
    name: 'transactions_list',
    description: 'Your credit transactions, newest first; pass pageInfo.endCursor as `after` for the next page.',
    input: { first: z.number().int().min(1).max(100).optional(), after: z.string().optional(), type: z.enum(['CREDIT', 'DEBIT']).optional() },
    graphql: `query ($userId: ID!, $first: Int, $after: String, $type: TransactionType) {
      transactions(userId: $userId, first: $first, after: $after, type: $type) { edges { node { ${TRANSACTION_FIELDS} } } pageInfo { endCursor hasNextPage } } }`,
    variables: (input, userId) => ({ userId, first: input.first ?? null, after: input.after ?? null, type: input.type ?? null }),
    present: (connection) => ({ transactions: connection.edges.map((edge: { node: unknown }) => edge.node), pageInfo: connection.pageInfo }),
    output: (connection) => z.object({ transactions: z.array(at(connection, 'edges', 'node')), pageInfo: at(connection, 'pageInfo') }),
  }),
  mcpTool({
    name: 'transactions_view',
    description: 'One of your transactions.',
    input: { id: z.string() },
    graphql: `query ($id: ID!, $userId: ID!) { transaction(id: $id, userId: $userId) { ${TRANSACTION_FIELDS} updatedAt } }`,
    variables: (input, userId) => ({ id: input.id, userId }),
  }),
];
