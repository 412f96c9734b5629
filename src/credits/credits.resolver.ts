import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root, Subscription, UseMiddleware } from 'type-graphql';
import { User } from '../accounts/user.entity';
import { Task } from '../agent/task.entity';
import { callerUser } from '../auth/caller';
import { decimalToCents } from '../core/money';
import type { Context } from '../graphql/context';
import { MoneyType, toMoney } from '../graphql/money';
import { toConnection } from '../graphql/pagination';
import { ReturnsUserErrors } from '../graphql/user-errors';
import { Idempotent } from '../idempotency/idempotency.middleware';
import {
  AdjustCreditsInput,
  AdjustCreditsPayload,
  BuyCreditsInput,
  BuyCreditsPayload,
  OpenBillingPortalInput,
  OpenBillingPortalPayload,
  RateTierType,
  TransactionConnection,
  TransactionsArgs,
} from './credits.types';
import { followBalance } from './balance-changes';
import { Transaction } from './transaction.entity';

const usd = (ctx: Context) => ctx.services.config.stripe.currency;

/** GraphQL adapter over the credits and purchases services; rules are in graphql/permissions.ts. */
@Resolver()
export class CreditsResolver {
  @Query(() => [RateTierType], { description: 'The credit rate tiers.' })
  stripeRate(@Ctx() ctx: Context): RateTierType[] {
    return ctx.services.purchases.rates().map((tier) => ({
      lowerLimit: toMoney({ cents: Math.round(tier.lowerLimit * 100), currency: usd(ctx) }),
      upperLimit: toMoney({ cents: Math.round(tier.upperLimit * 100), currency: usd(ctx) }),
      rate: tier.rate,
    }));
  }

  @Mutation(() => BuyCreditsPayload, { description: 'Start buying credits: returns the Stripe Checkout URL to pay at.' })
  @UseMiddleware(ReturnsUserErrors, Idempotent)
  async buyCredits(@Arg('input') input: BuyCreditsInput, @Ctx() ctx: Context): Promise<BuyCreditsPayload> {
    const bought = await ctx.services.purchases.buy(ctx.em, callerUser(ctx.caller)!, { amountCents: decimalToCents(input.amount), returnPath: input.returnPath });
    return { checkout: { ...bought, valueInFiat: toMoney(bought.valueInFiat) }, userErrors: [] };
  }

  @Mutation(() => OpenBillingPortalPayload, { description: 'Open the Stripe billing portal for your account.' })
  @UseMiddleware(ReturnsUserErrors)
  async portal(@Arg('input', () => OpenBillingPortalInput, { defaultValue: {} }) input: OpenBillingPortalInput, @Ctx() ctx: Context): Promise<OpenBillingPortalPayload> {
    return { portal: await ctx.services.purchases.portal(ctx.em, callerUser(ctx.caller)!, input.returnPath), userErrors: [] };
  }

  @Mutation(() => AdjustCreditsPayload, { description: 'Admin only: grant (positive) or remove (negative) credits, with the reason recorded.' })
  @UseMiddleware(ReturnsUserErrors, Idempotent)
  async adjustCredits(@Arg('input') input: AdjustCreditsInput, @Ctx() ctx: Context): Promise<AdjustCreditsPayload> {
    return { transaction: await ctx.services.credits.adjust(ctx.em, input.userId, input.amount, input.reason), userErrors: [] };
  }

  @Subscription(() => User, {
    description: 'You, with your credit balance: at once, then after each balance change (a Checkout payment landing, a charge, a refund, an adjustment).',
    subscribe: ({ context }: { context: Context }) => followBalance(context.services.events, context.em, callerUser(context.caller)!.id),
  })
  balanceChanged(@Root() user: User): User {
    return user;
  }
}

/** The ledger as seen from its owner. */
@Resolver(() => User)
export class UserCreditsResolver {
  @FieldResolver(() => TransactionConnection, { description: 'Your transactions, newest first.' })
  transactions(@Root() user: User, @Args() args: TransactionsArgs, @Ctx() ctx: Context) {
    const page = ctx.services.credits.page(ctx.readOnlyEm, user.id, args);
    return page.then((p) => toConnection(p, () => ctx.services.credits.count(ctx.readOnlyEm, user.id, args.type)));
  }

  @FieldResolver(() => Transaction, { nullable: true, description: 'One of your transactions; null when there is none with this id.' })
  transaction(@Root() user: User, @Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<Transaction | null> {
    return ctx.services.credits.find(ctx.em, user.id, id);
  }
}

@Resolver(() => Transaction)
export class TransactionResolver {
  @FieldResolver(() => MoneyType, { description: 'The value in money: what was paid for a purchase, the credits\' worth at the base rate otherwise.' })
  valueInFiat(@Root() transaction: Transaction, @Ctx() ctx: Context): MoneyType {
    return toMoney({ cents: transaction.fiatCents, currency: usd(ctx) });
  }

  @FieldResolver(() => Task, { nullable: true, description: 'The analysis this row charged or refunded.' })
  task(@Root() transaction: Transaction, @Ctx() ctx: Context): Promise<Task | null> | null {
    return transaction.reference?.startsWith('task_') ? ctx.loaders.task(transaction.reference, transaction.userId) : null;
  }
}
