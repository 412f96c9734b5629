import type { FastifyRequest } from 'fastify';
import { fieldOf, object, type RestOperation } from '../http/rest-operation';

type Req = FastifyRequest<{ Params: { user_id: string; session_id: string }; Querystring: { scope: 'others' | 'all' } }>;

/** Sessions: new paths (not in the legacy API), documented in the README. */
export const sessionsRest: RestOperation[] = [
  {
    method: 'GET',
    url: '/users/:user_id/sessions',
    graphql: 'query ($userId: ID!) { user(id: $userId) { sessions { id createdAt lastUsedAt expiresAt ip userAgent current } } }',
    variables: (r: Req) => ({ userId: r.params.user_id }),
    status: 200,
    message: 'Sessions fetched successfully.',
    present: fieldOf('sessions'),
  },
  {
    method: 'DELETE',
    url: '/users/:user_id/sessions/:session_id',
    graphql: 'mutation ($input: RevokeSessionInput!) { revokeSession(input: $input) { done } }',
    variables: (r: Req) => ({ input: { userId: r.params.user_id, sessionId: r.params.session_id } }),
    status: 204,
    message: 'Session revoked successfully.',
  },
  {
    method: 'DELETE',
    url: '/users/:user_id/sessions',
    graphql: 'mutation ($input: RevokeSessionsInput!) { revokeSessions(input: $input) { revokedCount } }',
    // The scope is required: ending every session is never what an empty request means.
    querystring: object({ scope: { enum: ['others', 'all'] } }),
    variables: (r: Req) => ({ input: { userId: r.params.user_id, scope: r.query.scope.toUpperCase() } }),
    status: 200,
    message: 'Sessions revoked successfully.',
    present: ({ revokedCount }: { revokedCount: number }) => ({ revoked: revokedCount }),
  },
];
