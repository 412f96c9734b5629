import type { FastifyRequest } from 'fastify';
import { USER_FIELDS } from '../accounts/accounts.types';
import { USER_STATUSES } from '../accounts/user.entity';
import { restUser } from '../accounts/accounts.rest';
import { presentTask, restTask, TASK_FIELDS, type TaskResult } from '../agent/agent.rest';
import { restTransaction, restTransactionSchema, TRANSACTION_FIELDS } from '../credits/credits.rest';
import { ADMIN_SECURITY_EVENT_FIELDS, restAdminSecurityEvent } from '../security-log/security-log.rest';
import { TRANSACTION_TYPES } from '../credits/transaction.entity';
import { toRestShape } from '../http/envelope';
import { arrayOf, bool, fieldOf, integer, nullable, object, optionalNumber, restDate, str, wholeNumber, type RestOperation } from '../http/rest-operation';

/*
 * The operators' REST paths (admin key, sent bare in Authorization), under /api/v1/admin: not part of the
 * documented legacy contract, which names no admin path. Each runs a GraphQL document, so the admin-key rules of
 * graphql/permissions.ts apply to them as to /graphql.
 */

/** What an operator sees of an account: the user's fields plus where it stands. */
const ADMIN_USER_FIELDS = `${USER_FIELDS} status deactivatedAt erasedAt`;
const RECENT = 10;

type Req = FastifyRequest<{ Params: { user_id: string; transaction_id: string }; Body: Record<string, any>; Querystring: Record<string, string | undefined> }>;
type Connection<T> = { edges: { node: T }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };

const reason = str({ minLength: 1, maxLength: 500 });

/* The answers' schemas, for the OpenAPI document. */
const adminUserSchema = object({ ...(restUser.properties as object), status: { enum: [...USER_STATUSES] }, deactivated_at: nullable(restDate), erased_at: nullable(restDate) });
const adminTransactionSchema = object({ ...(restTransactionSchema.properties as object), balance_after: integer, kind: str(), reference: nullable(str()) }, [...(restTransactionSchema.required as string[]), 'balance_after', 'kind']);
const pageInfo = object({ has_next_page: bool, end_cursor: nullable(str()) });
const pageOf = (name: string, item: Record<string, unknown>) => object({ [name]: arrayOf(item), page_info: pageInfo });
const cursor = str({ maxLength: 200 });
/** A keyset page in REST: the rows, and the cursor to pass as `after` for the next page. */
const restPage = <T>(connection: Connection<T>, present: (node: T) => unknown, name: string) => ({
  [name]: connection.edges.map((edge) => present(edge.node)),
  page_info: { has_next_page: connection.pageInfo.hasNextPage, end_cursor: connection.pageInfo.endCursor },
});
const userAction = (mutation: string, url: string, method: 'POST' | 'DELETE', message: string): RestOperation => ({
  method,
  url,
  summary: message,
  auth: ['adminKey'],
  data: adminUserSchema,
  errors: [403, 404, 409],
  graphql: `mutation ($input: UserActionInput!) { ${mutation}(input: $input) { user { ${ADMIN_USER_FIELDS} } } }`,
  body: object({ reason }),
  variables: (r: Req) => ({ input: { userId: r.params.user_id, reason: r.body.reason } }),
  status: 200,
  message,
  present: fieldOf('user'),
});

export const adminRest: RestOperation[] = [
  {
    method: 'GET',
    url: '/admin/users',
    summary: 'Search users by email or name fragment and status (newest first, keyset pages)',
    auth: ['adminKey'],
    data: pageOf('users', adminUserSchema),
    errors: [403],
    graphql: `query ($email: String, $name: String, $status: UserStatus, $first: Int, $after: String) {
      adminUsers(email: $email, name: $name, status: $status, first: $first, after: $after) { edges { node { ${ADMIN_USER_FIELDS} } } pageInfo { hasNextPage endCursor } } }`,
    querystring: object({ email: str({ maxLength: 320 }), name: str({ maxLength: 200 }), status: { enum: [...USER_STATUSES] }, limit: wholeNumber, after: cursor }, []),
    variables: (r: Req) => ({ email: r.query.email ?? null, name: r.query.name ?? null, status: r.query.status ?? null, first: optionalNumber(r.query.limit), after: r.query.after ?? null }),
    status: 200,
    message: 'Users fetched successfully.',
    present: (connection: Connection<object>) => restPage(connection, toRestShape, 'users'),
  },
  {
    method: 'GET',
    url: '/admin/users/:user_id',
    summary: 'One user with balance, status and recent activity',
    auth: ['adminKey'],
    data: object({ ...(adminUserSchema.properties as object), recent_transactions: arrayOf(restTransactionSchema), recent_tasks: arrayOf(restTask), recent_security_events: arrayOf(restAdminSecurityEvent) }),
    errors: [403, 404],
    graphql: `query ($id: ID!) { adminUser(id: $id) { ${ADMIN_USER_FIELDS}
      transactions(first: ${RECENT}) { edges { node { ${TRANSACTION_FIELDS} } } }
      tasks(first: ${RECENT}) { edges { node { ${TASK_FIELDS} } } }
      securityLog(first: ${RECENT}) { edges { node { ${ADMIN_SECURITY_EVENT_FIELDS} } } } } }`,
    variables: (r: Req) => ({ id: r.params.user_id }),
    status: 200,
    message: 'User fetched successfully.',
    present: ({ transactions, tasks, securityLog, ...user }: { transactions: Connection<any>; tasks: Connection<TaskResult>; securityLog: Connection<object> } & Record<string, unknown>) => ({
      ...(toRestShape(user) as object),
      recent_transactions: transactions.edges.map((edge) => restTransaction(edge.node)),
      recent_tasks: tasks.edges.map((edge) => presentTask(edge.node)),
      recent_security_events: securityLog.edges.map((edge) => toRestShape(edge.node)),
    }),
  },
  userAction('deactivateUser', '/admin/users/:user_id/deactivate', 'POST', 'User deactivated: sessions ended, login and API key refused.'),
  userAction('reactivateUser', '/admin/users/:user_id/reactivate', 'POST', 'User reactivated.'),
  userAction('eraseUser', '/admin/users/:user_id', 'DELETE', 'User erased: personal data removed, ledger kept.'),
  {
    method: 'POST',
    url: '/admin/users/:user_id/credits',
    summary: 'Grant or remove credits (a ledger row with the reason)',
    auth: ['adminKey'],
    data: adminTransactionSchema,
    errors: [403, 404],
    graphql: `mutation ($input: AdjustCreditsInput!) { adjustCredits(input: $input) { transaction { ${TRANSACTION_FIELDS} balanceAfter kind } } }`,
    body: object({ amount: { type: 'integer' }, reason }),
    variables: (r: Req) => ({ input: { userId: r.params.user_id, amount: r.body.amount, reason: r.body.reason } }),
    acceptsIdempotencyKey: true,
    status: 201,
    message: 'Credits updated.',
    present: ({ transaction }: { transaction: { valueInFiat: { amount: string } } }) => restTransaction(transaction),
  },
  {
    method: 'GET',
    url: '/admin/users/:user_id/transactions',
    summary: "A user's ledger entries (newest first, keyset pages)",
    auth: ['adminKey'],
    data: pageOf('transactions', adminTransactionSchema),
    errors: [403, 404],
    graphql: `query ($id: ID!, $first: Int, $after: String, $type: TransactionType) {
      adminUser(id: $id) { transactions(first: $first, after: $after, type: $type) { edges { node { ${TRANSACTION_FIELDS} balanceAfter kind reference } } pageInfo { hasNextPage endCursor } } } }`,
    querystring: object({ limit: wholeNumber, after: cursor, type: { enum: [...TRANSACTION_TYPES] } }, []),
    variables: (r: Req) => ({ id: r.params.user_id, first: optionalNumber(r.query.limit), after: r.query.after ?? null, type: r.query.type ?? null }),
    status: 200,
    message: 'Transactions fetched successfully.',
    present: (user: { transactions: Connection<{ valueInFiat: { amount: string } }> }) => restPage(user.transactions, restTransaction, 'transactions'),
  },
  {
    method: 'POST',
    url: '/admin/transactions/:transaction_id/corrections',
    summary: 'Correct a ledger row by a compensating entry (never by editing it)',
    auth: ['adminKey'],
    data: adminTransactionSchema,
    errors: [403, 404, 409],
    graphql: `mutation ($input: CorrectTransactionInput!) { correctTransaction(input: $input) { transaction { ${TRANSACTION_FIELDS} balanceAfter kind reference } } }`,
    body: object({ credits: { type: 'integer', minimum: 1 }, reason }, ['reason']),
    variables: (r: Req) => ({ input: { transactionId: r.params.transaction_id, credits: r.body.credits ?? null, reason: r.body.reason } }),
    status: 201,
    message: 'Correction recorded.',
    present: ({ transaction }: { transaction: { valueInFiat: { amount: string } } }) => restTransaction(transaction),
  },
];
