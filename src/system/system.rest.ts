import type { RestOperation } from '../http/rest-operation';

export const systemRest: RestOperation[] = [
  { method: 'GET', url: '/health', graphql: 'query { health { service status } }', status: 200, message: 'Health check successful.' },
  { method: 'GET', url: '/version', graphql: 'query { version }', status: 200, message: 'Version check successful.', present: (version: string) => ({ version }) },
];
