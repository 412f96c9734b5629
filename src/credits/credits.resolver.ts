import { Arg, Ctx, Float, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import { callerUser } from '../auth/caller';
import { badRequest } from '../core/errors';
import type { Context } from '../graphql/context';
import { toConnection } from '../graphql/pagination';
import { BillingPortal, CreditCheckout, RateTierType, TransactionConnection } from './credits.types';
import { Transaction, type TransactionType, TransactionTypeEnum } from './transaction.entity';

/** GraphQL adapter over the credits and purchases services; rules are in graphql/permissions.ts. */
@Resolver()
export class CreditsResolver {
  @Query(() => [RateTierType], { description: 'The credit rate tiers.' })
  stripeRate(@Ctx() ctx: Context): RateTierType[] {
    return ctx.services.purchases.rates();
  }

  @Mutation(() => CreditCheckout, { description: 'Start buying credits: returns the Stripe Checkout URL to pay at.' })
  buyCredits(
    @Arg('amount', () => Float, { description: 'USD, in whole cents.' }) amount: number,
    @Arg('returnPath', () => String, { nullable: true, description: 'Path on the app to come back to after checkout.' }) returnPath: string | null,
    @Ctx() ctx: Context,
  ): Promise<CreditCheckout> {
    return ctx.services.purchases.buy(ctx.em, callerUser(ctx.caller)!, { amount, returnPath });
  }

  @Mutation(() => BillingPortal, { description: 'Open the Stripe billing portal for your account.' })
  portal(@Arg('returnPath', () => String, { nullable: true }) returnPath: string | null, @Ctx() ctx: Context): Promise<BillingPortal> {
    return ctx.services.purchases.portal(ctx.em, callerUser(ctx.caller)!, returnPath);
  }

  @Query(() => TransactionConnection, { description: 'Your transactions, newest first: page with first/after (or offset, for the REST paths).' })
  async transactions(
    @Arg('userId', () => ID) userId: string,
    @Arg('first', () => Int, { nullable: true, description: 'Page size, 1 to 100 (default 20).' }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('offset', () => Int, { nullable: true, description: 'Skip this many (slower on deep pages; prefer after).' }) offset: number | null,
    @Arg('type', () => TransactionTypeEnum, { nullable: true }) type: TransactionType | null,
    @Ctx() ctx: Context,
  ): Promise<TransactionConnection> {
    // Omitted arguments arrive as undefined, explicit nulls as null.
    if (after != null && offset != null) throw badRequest('Use either after or offset, not both.');
    const credits = ctx.services.credits;
    const page = offset != null ? await credits.listByOffset(ctx.em, userId, { limit: first, offset, type }) : await credits.listAfter(ctx.em, userId, { first, after, type });
    return toConnection(page.transactions, page.hasNextPage);
  }

  @Query(() => Transaction, { description: 'One of your transactions.' })
  transaction(@Arg('userId', () => ID) userId: string, @Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<Transaction> {
    return ctx.services.credits.get(ctx.em, userId, id);
  }

  @Mutation(() => Transaction, { description: 'Admin only: grant (positive) or remove (negative) credits, with the reason recorded.' })
  adjustCredits(
    @Arg('userId', () => ID) userId: string,
    @Arg('amount', () => Int) amount: number,
    @Arg('reason') reason: string,
    @Ctx() ctx: Context,
  ): Promise<Transaction> {
    return ctx.services.credits.adjust(ctx.em, userId, amount, reason);
  }
}
