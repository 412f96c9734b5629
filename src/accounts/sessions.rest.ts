import type { FastifyRequest } from 'fastify';
import { arrayOf, bool, fieldOf, integer, nullable, object, restDate, restId, str, type RestOperation } from '../http/rest-operation';

type Req = FastifyRequest<{ Params: { user_id: string; session_id: string }; Querystring: { scope: 'others' | 'all' } }>;

const restSession = object({
  id: restId('session'), created_at: restDate, last_used_at: nullable(restDate), expires_at: restDate, ip: nullable(str()), user_agent: nullable(str()), current: bool,
});

/** Sessions: new paths (not in the legacy API), documented in the README. */
export const sessionsRest: RestOperation[] = [
  {
    method: 'GET',
    url: '/users/:user_id/sessions',
    summary: "The account's signed-in sessions",
    auth: ['userToken'],
    graphql: 'query ($userId: ID!) { user(id: $userId) { sessions { id createdAt lastUsedAt expiresAt ip userAgent current } } }',
    variables: (r: Req) => ({ userId: r.params.user_id }),
    status: 200,
    message: 'Sessions fetched successfully.',
    data: arrayOf(restSession),
    errors: [403, 404],
    present: fieldOf('sessions'),
  },
  {
    method: 'DELETE',
    url: '/users/:user_id/sessions/:session_id',
    summary: 'End one session',
    auth: ['userToken'],
    graphql: 'mutation ($input: RevokeSessionInput!) { revokeSession(input: $input) { done } }',
    variables: (r: Req) => ({ input: { userId: r.params.user_id, sessionId: r.params.session_id } }),
    status: 204,
    message: 'Session revoked successfully.',
    errors: [403, 404],
  },
  {
    method: 'DELETE',
    url: '/users/:user_id/sessions',
    summary: 'End the other sessions (scope=others) or all of them (scope=all)',
    auth: ['userToken'],
    graphql: 'mutation ($input: RevokeSessionsInput!) { revokeSessions(input: $input) { revokedCount } }',
    // The scope is required: ending every session is never what an empty request means.
    querystring: object({ scope: { enum: ['others', 'all'] } }),
    variables: (r: Req) => ({ input: { userId: r.params.user_id, scope: r.query.scope.toUpperCase() } }),
    status: 200,
    message: 'Sessions revoked successfully.',
    data: object({ revoked: integer }),
    errors: [403, 404],
    present: ({ revokedCount }: { revokedCount: number }) => ({ revoked: revokedCount }),
  },
];
