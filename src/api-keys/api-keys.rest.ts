import type { FastifyRequest } from 'fastify';
import type { RestOperation } from '../http/rest-operation';

const FIELDS = 'id token createdAt updatedAt';
const userIdOf = (r: FastifyRequest<{ Params: { user_id: string } }>) => ({ userId: r.params.user_id });

export const apiKeysRest: RestOperation[] = [
  {
    method: 'GET',
    url: '/users/:user_id/api_key',
    graphql: `query ($userId: ID!) { apiKey(userId: $userId) { ${FIELDS} } }`,
    variables: userIdOf,
    status: 200,
    message: 'API key fetched successfully.',
  },
  {
    method: 'POST',
    url: '/users/:user_id/api_key',
    graphql: `mutation ($userId: ID!) { resetApiKey(userId: $userId) { ${FIELDS} } }`,
    variables: userIdOf,
    status: 201,
    message: 'API key reset successfully. The previous key no longer works.',
  },
];
