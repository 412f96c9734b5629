import type { EntityManager } from '@mikro-orm/postgresql';
import type { AccountsService } from '../accounts/accounts.service';
import type { User } from '../accounts/user.entity';
import type { ApiKeysService } from '../api-keys/api-keys.service';
import { safeEqual } from './secret-box';
import type { TokenService } from './tokens';

/** Who is calling, read from the Authorization header once per request (REST and GraphQL alike). */
export type Caller =
  | { kind: 'anonymous' }
  | { kind: 'public' }
  | { kind: 'admin' }
  | { kind: 'user'; user: User; sessionId: string }
  | { kind: 'apiKey'; user: User; apiKeyId: string }
  /** A header was sent but is not acceptable; rules answer 401 with this reason. */
  | { kind: 'rejected'; reason: string };

export class CallerResolver {
  constructor(
    private readonly deps: {
      tokens: TokenService;
      accounts: AccountsService;
      apiKeys: ApiKeysService;
      publicApiKey: string;
      adminApiKey?: string;
    },
  ) {}

  async resolve(em: EntityManager, authorization: string | undefined): Promise<Caller> {
    const header = authorization?.trim();
    if (!header) return { kind: 'anonymous' };
    const [scheme, ...rest] = header.split(/\s+/);
    if (/^basic$/i.test(scheme)) return { kind: 'rejected', reason: 'Basic authentication is only accepted to log in.' };
    if (!/^bearer$/i.test(scheme)) {
      // The public and admin keys are sent bare, without a scheme (as the original API did).
      if (safeEqual(header, this.deps.publicApiKey)) return { kind: 'public' };
      if (this.deps.adminApiKey && safeEqual(header, this.deps.adminApiKey)) return { kind: 'admin' };
      return { kind: 'rejected', reason: 'The Authorization header is not valid.' };
    }
    const claims = this.deps.tokens.read(rest.join(' '));
    if (!claims) return { kind: 'rejected', reason: 'The token is invalid or has expired.' };
    if (claims.role === 'user') {
      const user = await this.deps.accounts.authenticateSession(em, claims.sub, claims.sid);
      return user ? { kind: 'user', user, sessionId: claims.sid } : { kind: 'rejected', reason: 'The session has ended; log in again.' };
    }
    const user = await this.deps.apiKeys.authenticate(em, claims.sub, claims.jti);
    return user ? { kind: 'apiKey', user, apiKeyId: claims.jti } : { kind: 'rejected', reason: 'The API key is no longer valid.' };
  }
}

export function callerUser(caller: Caller): User | null {
  return caller.kind === 'user' || caller.kind === 'apiKey' ? caller.user : null;
}
