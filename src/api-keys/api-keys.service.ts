import type { EntityManager } from '@mikro-orm/postgresql';
import type { TokenService } from '../auth/tokens';
import { User } from '../accounts/user.entity';
import type { RequestOrigin } from '../security-log/request-origin';
import type { SecurityEventDetail } from '../security-log/security-event.entity';
import type { SecurityLog } from '../security-log/security-log.service';
import type { SecurityNotices } from '../security-log/security-notices';
import { rawQuery } from '../database/shared-pool';
import { ApiKey } from './api-key.entity';
import { plainRowReader } from '../database/plain-rows';

export interface ApiKeyView { id: string; token: string; createdAt: Date; updatedAt: Date }

/** A user's one API key: shown on request, replaced on reset (which ends the old token at once). */
export class ApiKeysService {
  constructor(
    private readonly tokens: TokenService,
    private readonly audit: { securityLog: SecurityLog; notices: SecurityNotices },
  ) {}

  /** Adds a key for a new user to the unit of work; the caller's flush writes it with the user. */
  createFor(em: EntityManager, user: User): ApiKey {
    return em.create(ApiKey, { user });
  }

  async view(em: EntityManager, userId: string): Promise<ApiKeyView> {
    const key = (await em.findOne(ApiKey, { user: userId })) ?? (await this.replace(em, userId));
    return this.present(key);
  }

  /** Replaces the key, with a security log entry in the same transaction (also when a password reset or a Google takeover does it). */
  async reset(em: EntityManager, userId: string, why: { reason: SecurityEventDetail['reason']; origin?: RequestOrigin }): Promise<ApiKeyView> {
    return this.present(await this.replace(em, userId, why));
  }

  /** The owner asked for a new key: it is replaced and the owner is told by email. */
  async resetByOwner(em: EntityManager, user: User, origin?: RequestOrigin): Promise<ApiKeyView> {
    const key = await this.reset(em, user.id, { reason: 'user_request', origin });
    await this.audit.notices.send(user, 'API_KEY_RESET', origin);
    return key;
  }

  /** The user an API key token acts for, or null when the key was reset or never existed. */
  async authenticate(em: EntityManager, userId: string, apiKeyId: string): Promise<User | null> {
    // On every API-key request: one indexed join, hand-written like AccountsService.authenticateSession.
    const { rows: [row] } = await rawQuery(em, 'select u.* from api_keys k join users u on u.id = k.user_id where k.id = $1 and k.user_id = $2 and u.deactivated_at is null', [apiKeyId, userId]);
    return row ? plainRowReader(em, User).read(row) : null;
  }

  private async replace(em: EntityManager, userId: string, why?: { reason: SecurityEventDetail['reason']; origin?: RequestOrigin }): Promise<ApiKey> {
    return em.transactional(async (tx) => {
      await tx.nativeDelete(ApiKey, { user: userId });
      const key = tx.create(ApiKey, { user: tx.getReference(User, userId) });
      if (why) this.audit.securityLog.record(tx as EntityManager, userId, 'API_KEY_RESET', why.origin, { reason: why.reason });
      await tx.flush();
      return key;
    });
  }

  private present(key: ApiKey): ApiKeyView {
    return { id: key.id, token: this.tokens.signApiKeyToken(key.user.id, key.id), createdAt: key.createdAt, updatedAt: key.updatedAt };
  }
}
