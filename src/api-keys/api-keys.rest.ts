import type { FastifyRequest } from 'fastify';
import { fieldOf, object, restDate, restId, str, type RestOperation } from '../http/rest-operation';

const FIELDS = 'id token createdAt updatedAt';
const restApiKey = object({ id: restId('api_key'), token: str({ pattern: '^clara_api_' }), created_at: restDate, updated_at: restDate });
const userIdOf = (r: FastifyRequest<{ Params: { user_id: string } }>) => ({ userId: r.params.user_id });
const ownAccount = (r: FastifyRequest<{ Params: { user_id: string } }>) => ({ input: { userId: r.params.user_id } });

export const apiKeysRest: RestOperation[] = [
  {
    method: 'GET',
    url: '/users/:user_id/api_key',
    summary: 'View the API key',
    auth: ['userToken'],
    graphql: `query ($userId: ID!) { user(id: $userId) { apiKey { ${FIELDS} } } }`,
    variables: userIdOf,
    status: 200,
    message: 'API key fetched successfully.',
    data: restApiKey,
    errors: [403, 404],
    present: fieldOf('apiKey'),
  },
  {
    method: 'POST',
    url: '/users/:user_id/api_key',
    summary: 'Reset the API key: a new token, the previous one stops working',
    auth: ['userToken'],
    graphql: `mutation ($input: ResetApiKeyInput!) { resetApiKey(input: $input) { apiKey { ${FIELDS} } } }`,
    variables: ownAccount,
    status: 201,
    message: 'API key reset successfully. The previous key no longer works.',
    data: restApiKey,
    errors: [403, 404],
    present: fieldOf('apiKey'),
  },
];
