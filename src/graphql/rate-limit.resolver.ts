import { Ctx, Field, Int, ObjectType, Query, Resolver } from 'type-graphql';
import type { Context } from './context';

@ObjectType({ description: "This request's cost and what is left of your budget (cost points per window, like the RateLimit headers)." })
export class RateLimit {
  @Field(() => Int, { description: 'Points this request cost.' }) cost!: number;
  @Field(() => Int, { nullable: true, description: 'Points per window; null when rate limiting is off.' }) limit!: number | null;
  @Field(() => Int, { nullable: true, description: 'Points left in this window, after this request.' }) remaining!: number | null;
  @Field(() => Date, { nullable: true, description: 'When the window ends and the budget is full again.' }) resetAt!: Date | null;
}

@Resolver()
export class RateLimitResolver {
  @Query(() => RateLimit, { description: "This request's cost and your remaining budget." })
  rateLimit(@Ctx() ctx: Context): RateLimit {
    const budget = ctx.budget;
    return { cost: ctx.cost ?? 0, limit: budget?.limit ?? null, remaining: budget?.remaining ?? null, resetAt: budget?.resetAt ?? null };
  }
}
