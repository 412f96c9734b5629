import type { FastifyRequest } from 'fastify';
import { toRestShape } from '../http/envelope';
import { arrayOf, integer, nullable, object, optionalNumber, restDate, restId, str, wholeNumber, type RestOperation } from '../http/rest-operation';
import { SECURITY_EVENT_KINDS } from './security-event.entity';

type Req = FastifyRequest<{ Params: { user_id: string }; Querystring: Record<string, string | undefined> }>;

export const restSecurityEvent = object({
  id: restId('security_event'), kind: { enum: [...SECURITY_EVENT_KINDS] }, created_at: restDate, ip: nullable(str()), user_agent: nullable(str()),
  detail: object({ method: nullable(str()), reason: nullable(str()), scope: nullable(str()), count: nullable(integer) }),
});

export const securityLogRest: RestOperation[] = [
  {
    method: 'GET',
    url: '/users/:user_id/security_log',
    summary: "The account's security log, newest first (limit/offset)",
    auth: ['userToken', 'adminKey'],
    graphql: `query ($userId: ID!, $first: Int, $offset: Int) {
      userSecurityLog(userId: $userId, first: $first, offset: $offset) { edges { node { id kind createdAt ip userAgent detail { method reason scope count } } } } }`,
    querystring: object({ limit: wholeNumber, offset: wholeNumber }, []),
    variables: (r: Req) => ({ userId: r.params.user_id, first: optionalNumber(r.query.limit), offset: optionalNumber(r.query.offset) ?? 0 }),
    status: 200,
    message: 'Security log fetched successfully.',
    data: arrayOf(restSecurityEvent),
    errors: [403, 404],
    present: (connection: { edges: { node: object }[] }) => connection.edges.map((edge) => toRestShape(edge.node)),
  },
];
