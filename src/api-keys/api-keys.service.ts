import type { EntityManager } from '@mikro-orm/postgresql';
import type { TokenService } from '../auth/tokens';
import { User } from '../accounts/user.entity';
import { rawQuery } from '../database/shared-pool';
import { ApiKey } from './api-key.entity';

export interface ApiKeyView { id: string; token: string; createdAt: Date; updatedAt: Date }

/** A user's one API key: shown on request, replaced on reset (which ends the old token at once). */
export class ApiKeysService {
  constructor(private readonly tokens: TokenService) {}

  /** Adds a key for a new user to the unit of work; the caller's flush writes it with the user. */
  createFor(em: EntityManager, user: User): ApiKey {
    return em.create(ApiKey, { user });
  }

  async view(em: EntityManager, userId: string): Promise<ApiKeyView> {
    const key = (await em.findOne(ApiKey, { user: userId })) ?? (await this.replace(em, userId));
    return this.present(key);
  }

  async reset(em: EntityManager, userId: string): Promise<ApiKeyView> {
    return this.present(await this.replace(em, userId));
  }

  /** The user an API key token acts for, or null when the key was reset or never existed. */
  async authenticate(em: EntityManager, userId: string, apiKeyId: string): Promise<User | null> {
    // On every API-key request: one indexed join, hand-written like AccountsService.authenticateSession.
    const { rows: [row] } = await rawQuery(em, 'select u.* from api_keys k join users u on u.id = k.user_id where k.id = $1 and k.user_id = $2', [apiKeyId, userId]);
    return row ? em.map(User, row) : null;
  }

  private async replace(em: EntityManager, userId: string): Promise<ApiKey> {
    return em.transactional(async (tx) => {
      await tx.nativeDelete(ApiKey, { user: userId });
      const key = tx.create(ApiKey, { user: tx.getReference(User, userId) });
      await tx.flush();
      return key;
    });
  }

  private present(key: ApiKey): ApiKeyView {
    return { id: key.id, token: this.tokens.signApiKeyToken(key.user.id, key.id), createdAt: key.createdAt, updatedAt: key.updatedAt };
  }
}
