import type { FastifyRequest } from 'fastify';
import { fieldOf, type RestOperation } from '../http/rest-operation';

const FIELDS = 'id token createdAt updatedAt';
const userIdOf = (r: FastifyRequest<{ Params: { user_id: string } }>) => ({ userId: r.params.user_id });
const ownAccount = (r: FastifyRequest<{ Params: { user_id: string } }>) => ({ input: { userId: r.params.user_id } });

export const apiKeysRest: RestOperation[] = [
  {
    method: 'GET',
    url: '/users/:user_id/api_key',
    graphql: `query ($userId: ID!) { user(id: $userId) { apiKey { ${FIELDS} } } }`,
    variables: userIdOf,
    status: 200,
    message: 'API key fetched successfully.',
    present: fieldOf('apiKey'),
  },
  {
    method: 'POST',
    url: '/users/:user_id/api_key',
    graphql: `mutation ($input: ResetApiKeyInput!) { resetApiKey(input: $input) { apiKey { ${FIELDS} } } }`,
    variables: ownAccount,
    status: 201,
    message: 'API key reset successfully. The previous key no longer works.',
    present: fieldOf('apiKey'),
  },
];
