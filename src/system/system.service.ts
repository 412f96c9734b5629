import type { EntityManager } from '@mikro-orm/postgresql';
import { DomainError } from '../core/errors';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { version } = require('../../../package.json') as { version: string };

/** Liveness and version: what load balancers and clients ask before anything else. */
export class SystemService {
  readonly version = version;

  constructor(private readonly serviceName: string) {}

  async health(em: EntityManager): Promise<{ service: string; status: 'healthy' }> {
    try {
      await em.getConnection().execute('select 1');
    } catch {
      throw new DomainError('UNAVAILABLE', 'The database is not reachable.');
    }
    return { service: this.serviceName, status: 'healthy' };
  }
}
