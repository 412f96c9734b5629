import type { EntityManager } from '@mikro-orm/postgresql';
import { User } from '../accounts/user.entity';
import { notFound } from '../core/errors';
import type { EventBus } from '../events/event-bus';
import { followLatest } from '../events/latest-state';

/**
 * The user with their balance: at once, then after each balance change the database announces (a purchase
 * landing through the Stripe webhook, a task's charge or refund, an operator's adjustment). `em` is cleared
 * before each read, so every state is fresh. Ends when the account is gone.
 */
export async function followBalance(events: EventBus, em: EntityManager, userId: string): Promise<AsyncIterableIterator<User>> {
  const followed = await followLatest<User>({
    events,
    listen: (changed) => events.on('balance', changed, userId),
    read() {
      em.clear();
      return em.findOne(User, { id: userId });
    },
    same: (previous, next) => previous.credits === next.credits,
  });
  if (!followed) throw notFound('User not found.');
  return followed;
}
