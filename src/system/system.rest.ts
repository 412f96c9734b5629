import { object, str, type RestOperation } from '../http/rest-operation';

export const systemRest: RestOperation[] = [
  {
    method: 'GET',
    url: '/health',
    summary: 'Service and database health',
    auth: ['none'],
    graphql: 'query { health { service status } }',
    status: 200,
    message: 'Health check successful.',
    data: object({ service: str(), status: str({ examples: ['healthy'] }) }),
    errors: [],
  },
  {
    method: 'GET',
    url: '/version',
    summary: 'The running version',
    auth: ['none'],
    graphql: 'query { version }',
    status: 200,
    message: 'Version check successful.',
    present: (version: string) => ({ version }),
    data: object({ version: str() }),
    errors: [],
  },
];
