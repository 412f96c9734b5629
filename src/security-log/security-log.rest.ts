import type { FastifyRequest } from 'fastify';
import { toRestShape } from '../http/envelope';
import { object, optionalNumber, wholeNumber, type RestOperation } from '../http/rest-operation';

type Req = FastifyRequest<{ Params: { user_id: string }; Querystring: Record<string, string | undefined> }>;

export const securityLogRest: RestOperation[] = [
  {
    method: 'GET',
    url: '/users/:user_id/security_log',
    graphql: `query ($userId: ID!, $first: Int, $offset: Int) {
      userSecurityLog(userId: $userId, first: $first, offset: $offset) { edges { node { id kind createdAt ip userAgent detail { method reason scope count } } } } }`,
    querystring: object({ limit: wholeNumber, offset: wholeNumber }, []),
    variables: (r: Req) => ({ userId: r.params.user_id, first: optionalNumber(r.query.limit), offset: optionalNumber(r.query.offset) ?? 0 }),
    status: 200,
    message: 'Security log fetched successfully.',
    present: (connection: { edges: { node: object }[] }) => connection.edges.map((edge) => toRestShape(edge.node)),
  },
];
