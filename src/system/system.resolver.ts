import { Ctx, Field, ObjectType, Query, Resolver } from 'type-graphql';
import type { Context } from '../graphql/context';

@ObjectType()
export class Health {
  @Field() service!: string;
  @Field() status!: string;
}

@Resolver()
export class SystemResolver {
  @Query(() => Health, { description: 'Service and database status.' })
  health(@Ctx() ctx: Context): Promise<Health> {
    return ctx.services.system.health(ctx.em);
  }

  @Query(() => String, { description: 'The running version.' })
  version(@Ctx() ctx: Context): string {
    return ctx.services.system.version;
  }
}
