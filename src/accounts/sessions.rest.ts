import type { FastifyRequest } from 'fastify';
import { object, type RestOperation } from '../http/rest-operation';

type Req = FastifyRequest<{ Params: { user_id: string; session_id: string }; Querystring: { scope: 'others' | 'all' } }>;

/** Sessions: new paths (not in the legacy API), documented in the README. */
export const sessionsRest: RestOperation[] = [
  {
    method: 'GET',
    url: '/users/:user_id/sessions',
    graphql: 'query ($userId: ID!) { sessions(userId: $userId) { id createdAt lastUsedAt expiresAt ip userAgent current } }',
    variables: (r: Req) => ({ userId: r.params.user_id }),
    status: 200,
    message: 'Sessions fetched successfully.',
  },
  {
    method: 'DELETE',
    url: '/users/:user_id/sessions/:session_id',
    graphql: 'mutation ($userId: ID!, $sessionId: ID!) { revokeSession(userId: $userId, sessionId: $sessionId) }',
    variables: (r: Req) => ({ userId: r.params.user_id, sessionId: r.params.session_id }),
    status: 204,
    message: 'Session revoked successfully.',
  },
  {
    method: 'DELETE',
    url: '/users/:user_id/sessions',
    graphql: 'mutation ($userId: ID!, $scope: SessionRevokeScope!) { revokeSessions(userId: $userId, scope: $scope) }',
    // The scope is required: ending every session is never what an empty request means.
    querystring: object({ scope: { enum: ['others', 'all'] } }),
    variables: (r: Req) => ({ userId: r.params.user_id, scope: r.query.scope.toUpperCase() }),
    status: 200,
    message: 'Sessions revoked successfully.',
    present: (revoked: number) => ({ revoked }),
  },
];
