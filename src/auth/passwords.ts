import argon2 from 'argon2';
import type { Config } from '../core/config';

/** argon2id with the configured cost; verification reads the parameters stored in each hash. */
export class PasswordHasher {
  /** A real hash to verify against when the account does not exist, so timing does not reveal emails. */
  private decoy?: Promise<string>;

  constructor(private readonly params: Config['argon2']) {}

  hash(password: string): Promise<string> {
    return argon2.hash(password, { type: argon2.argon2id, ...this.params });
  }

  async verify(hash: string | null | undefined, password: string): Promise<boolean> {
    if (!hash) {
      this.decoy ??= this.hash('decoy-password-for-timing');
      await argon2.verify(await this.decoy, password).catch(() => false);
      return false;
    }
    return argon2.verify(hash, password).catch(() => false);
  }
}
