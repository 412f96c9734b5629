import { Field, ObjectType } from 'type-graphql';
import { PageInfo } from '../graphql/pagination';
import { SecurityEvent } from './security-event.entity';

@ObjectType()
export class SecurityEventEdge {
  @Field() cursor!: string;
  @Field(() => SecurityEvent) node!: SecurityEvent;
}

@ObjectType({ description: 'A security log, newest first.' })
export class SecurityEventConnection {
  @Field(() => [SecurityEventEdge]) edges!: SecurityEventEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
}
