import { Entity, OneToOne, OptionalProps, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { newId } from '../core/ids';
import { User } from '../accounts/user.entity';

/**
 * A user's API key. Only its id is kept: the token is a JWT signed over that id with the server's secret,
 * so a database dump alone cannot produce a working key, and deleting the row (reset) ends the old token.
 */
@Entity({ tableName: 'api_keys' })
export class ApiKey {
  [OptionalProps]?: 'createdAt' | 'updatedAt';

  @PrimaryKey({ type: 'string', length: 45 })
  id: string = newId('api_key');

  @OneToOne(() => User, { ref: true, owner: true, unique: true, deleteRule: 'cascade' })
  user!: Ref<User>;

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
