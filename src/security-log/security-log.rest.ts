import type { FastifyRequest } from 'fastify';
import { toRestShape } from '../http/envelope';
import { arrayOf, integer, nullable, object, optionalNumber, restDate, restId, str, wholeNumber, type RestOperation } from '../http/rest-operation';
import { SECURITY_EVENT_KINDS } from './security-event.entity';

type Req = FastifyRequest<{ Params: { user_id: string }; Querystring: Record<string, string | undefined> }>;

/* A security event's GraphQL selection and its REST shape, which name the same fields. */
const DETAIL_FIELDS = 'method reason scope count';
const restDetail = { method: nullable(str()), reason: nullable(str()), scope: nullable(str()), count: nullable(integer) };
const eventFields = (detailFields: string) => `id kind createdAt ip userAgent detail { ${detailFields} }`;
const restEvent = (detail: Record<string, Record<string, unknown>>) => object({
  id: restId('security_event'), kind: { enum: [...SECURITY_EVENT_KINDS] }, created_at: restDate, ip: nullable(str()), user_agent: nullable(str()),
  detail: object(detail),
});

/** An event as the account's owner sees it. */
export const SECURITY_EVENT_FIELDS = eventFields(DETAIL_FIELDS);
export const restSecurityEvent = restEvent(restDetail);
/** An event as an operator sees it (admin.rest): the detail also names the operator's note and the ledger row written. */
export const ADMIN_SECURITY_EVENT_FIELDS = eventFields(`${DETAIL_FIELDS} note transactionId`);
export const restAdminSecurityEvent = restEvent({ ...restDetail, note: nullable(str()), transaction_id: nullable(str()) });

export const securityLogRest: RestOperation[] = [
  {
    method: 'GET',
    url: '/users/:user_id/security_log',
    summary: "The account's security log, newest first (limit/offset)",
    auth: ['userToken', 'adminKey'],
    graphql: `query ($userId: ID!, $first: Int, $offset: Int) {
      userSecurityLog(userId: $userId, first: $first, offset: $offset) { edges { node { ${SECURITY_EVENT_FIELDS} } } } }`,
    querystring: object({ limit: wholeNumber, offset: wholeNumber }, []),
    variables: (r: Req) => ({ userId: r.params.user_id, first: optionalNumber(r.query.limit), offset: optionalNumber(r.query.offset) ?? 0 }),
    status: 200,
    message: 'Security log fetched successfully.',
    data: arrayOf(restSecurityEvent),
    errors: [403, 404],
    present: (connection: { edges: { node: object }[] }) => connection.edges.map((edge) => toRestShape(edge.node)),
  },
];
