import { UniqueConstraintViolationException, type EntityManager } from '@mikro-orm/postgresql';
import { User } from '../accounts/user.entity';
import type { RateTier } from '../core/config';
import { badRequest, DomainError, notFound } from '../core/errors';
import { isId } from '../core/ids';
import { keysetCount, keysetPage, type KeysetList, type Page, type PageRequest } from '../core/keyset';
import { SecurityLog } from '../security-log/security-log.service';
import { creditsToCents } from './rates';
import { Transaction, type TransactionKind, type TransactionType } from './transaction.entity';

/** One balance change to record. `delta` is signed; `describe` gets the balances before and after. */
export interface BalanceChange {
  userId: string;
  delta: number;
  kind: TransactionKind;
  reference?: string | null;
  fiatCents?: number;
  describe: (before: number, after: number) => string;
  /** Writes what else belongs to the change (a security log entry) in its database transaction, on every path. */
  audit?: (tx: EntityManager, entry: Transaction) => Promise<void>;
}

export interface SpendOptions { kind: 'analysis'; reference: string; description?: string }
export interface RefundOptions { reference: string; description?: string }

/** Balances are 32-bit integers; one operator adjustment stays well inside them. */
const MAX_ADJUSTMENT = 1_000_000_000;

/** An operator's reason, required for every operator change (kept in the ledger row and the security log). */
export function operatorReason(reason: string): string {
  const why = reason.trim();
  if (!why || why.length > 500) throw badRequest('A reason (1 to 500 characters) is required.', ['input', 'reason']);
  return why;
}

/**
 * The credit ledger: every change of a balance goes through here and is written, with its ledger row, in
 * one database transaction. The balance update is conditional (`credits + delta >= 0`), so concurrent
 * spends serialise on the user's row and can never take a balance below zero or lose an update.
 */
export class CreditsService {
  /** `ledger` hears of each row once its transaction has committed (the credits metrics). */
  constructor(
    private readonly rates: RateTier[],
    private readonly deps: { securityLog: SecurityLog; ledger?: { ledgerEntry(entry: Transaction): void } },
  ) {}

  /** Callers that write rows inside their own transaction (applyInTransaction) report each row after the commit. */
  committed(entry: Transaction): void {
    this.deps.ledger?.ledgerEntry(entry);
  }

  /** Charges credits for a task; idempotent per reference (charging the same task twice returns the first charge). */
  async spend(em: EntityManager, userId: string, credits: number, options: SpendOptions): Promise<Transaction> {
    positiveWhole(credits);
    return this.record(em, {
      userId,
      delta: -credits,
      kind: options.kind,
      reference: options.reference,
      describe: () => options.description ?? `Spent ${credits} credits on ${options.kind} ${options.reference}.`,
    });
  }

  /** Gives back credits charged for a reference (at most what was charged); idempotent per reference. */
  async refund(em: EntityManager, userId: string, credits: number, options: RefundOptions): Promise<Transaction> {
    positiveWhole(credits);
    const charge = await em.findOne(Transaction, { user: userId, reference: options.reference, type: 'DEBIT' });
    if (!charge) throw notFound(`Nothing was charged for ${options.reference}.`);
    if (credits > charge.valueInCredits) throw badRequest(`At most ${charge.valueInCredits} credits can be refunded for ${options.reference}.`);
    return this.record(em, {
      userId,
      delta: credits,
      kind: 'refund',
      reference: options.reference,
      describe: () => options.description ?? `Refunded ${credits} credits for ${options.reference}.`,
    });
  }

  /**
   * An operator's grant (amount > 0) or removal (amount < 0), with the reason in the ledger row and, in the
   * same database transaction, in the user's security log.
   */
  async adjust(em: EntityManager, userId: string, amount: number, reason: string): Promise<Transaction> {
    if (!Number.isInteger(amount) || amount === 0 || Math.abs(amount) > MAX_ADJUSTMENT) throw badRequest(`amount must be a non-zero whole number of credits, at most ${MAX_ADJUSTMENT} either way.`);
    const why = operatorReason(reason);
    return this.record(em, {
      userId,
      delta: amount,
      kind: 'admin',
      describe: (before, after) => `Admin updated credits from ${before} to ${after}: ${why}`,
      audit: this.operatorAudit('CREDITS_ADJUSTED', why),
    });
  }

  /**
   * Corrects a ledger row the only way the ledger allows: a compensating row in the other direction (all of the
   * row's credits, or `credits` of them), referencing it. A row is corrected at most once: repeating the same
   * correction answers the first one, a different one is a CONFLICT. Reversing credits already spent is
   * INSUFFICIENT_CREDITS (the balance never goes below zero).
   */
  async correct(em: EntityManager, transactionId: string, reason: string, credits?: number | null): Promise<Transaction> {
    const why = operatorReason(reason);
    const original = isId('transaction', transactionId) ? await em.findOne(Transaction, { id: transactionId }) : null;
    if (!original) throw notFound('Transaction not found.', ['input', 'transactionId']);
    const amount = credits ?? original.valueInCredits;
    if (!Number.isInteger(amount) || amount <= 0 || amount > original.valueInCredits) {
      throw badRequest(`credits must be a whole number from 1 to ${original.valueInCredits} (the row's value).`, ['input', 'credits']);
    }
    const delta = original.type === 'CREDIT' ? -amount : amount;
    return this.record(em, {
      userId: original.user.id,
      delta,
      kind: 'correction',
      reference: original.id,
      describe: (before, after) => `Correction of ${original.id}: ${amount} credits ${delta > 0 ? 'given back' : 'taken back'} (balance ${before} → ${after}): ${why}`,
      audit: this.operatorAudit('LEDGER_CORRECTED', why),
    });
  }

  /**
   * Applies a change inside the caller's open database transaction (e.g. a purchase being settled).
   * Throws INSUFFICIENT_CREDITS (403) when the balance would go below zero, NOT_FOUND for an unknown user.
   */
  async applyInTransaction(tx: EntityManager, change: BalanceChange): Promise<Transaction> {
    const rows = await tx
      .execute<{ credits: number }[]>('update "users" set "credits" = "credits" + ?, "updated_at" = ? where "id" = ? and "credits" + ? >= 0 returning "credits"', [change.delta, new Date(), change.userId, change.delta])
      .catch((error: { code?: string }) => {
        // 22003: the balance would leave the integer range.
        if (error.code === '22003') throw badRequest('The balance would exceed the largest balance an account can hold.');
        throw error;
      });
    if (!rows.length) {
      if (!(await tx.count(User, { id: change.userId }))) throw notFound('User not found.');
      throw new DomainError('INSUFFICIENT_CREDITS', `Not enough credits: ${-change.delta} are needed.`);
    }
    const after = rows[0].credits;
    const credits = Math.abs(change.delta);
    const entry = tx.create(Transaction, {
      user: tx.getReference(User, change.userId),
      type: change.delta > 0 ? 'CREDIT' : 'DEBIT',
      kind: change.kind,
      reference: change.reference ?? null,
      valueInCredits: credits,
      fiatCents: change.fiatCents ?? creditsToCents(this.rates, credits),
      balanceAfter: after,
      description: change.describe(after - change.delta, after),
    });
    await tx.flush();
    await change.audit?.(tx, entry);
    return entry;
  }

  /** An operator's change in the user's security log, with the reason and the row it wrote. */
  private operatorAudit(kind: 'CREDITS_ADJUSTED' | 'LEDGER_CORRECTED', why: string): BalanceChange['audit'] {
    return (tx, entry) => this.deps.securityLog.write(tx, entry.user.id, kind, undefined, { reason: 'admin', note: why, transactionId: entry.id });
  }

  /** A change in its own database transaction; with a reference, a repeat returns the first row instead. */
  private async record(em: EntityManager, change: BalanceChange): Promise<Transaction> {
    const earlier = () => (change.reference ? em.findOne(Transaction, { kind: change.kind, reference: change.reference }) : Promise.resolve(null));
    const existing = await earlier();
    if (existing) return sameChange(existing, change);
    try {
      const entry = await em.transactional((tx) => this.applyInTransaction(tx as EntityManager, change));
      this.committed(entry);
      return entry;
    } catch (error) {
      // A concurrent call with the same reference won the race; its row is the answer.
      const winner = error instanceof UniqueConstraintViolationException ? await earlier() : null;
      if (winner) return sameChange(winner, change);
      throw error;
    }
  }

  /** A page of the user's ledger, newest first (see keysetPage: cursors both ways, or an offset for REST). */
  page(em: EntityManager, userId: string, request: PageRequest & { type?: TransactionType | null }): Promise<Page<Transaction>> {
    return keysetPage(em, ledger(userId, request.type), request);
  }

  count(em: EntityManager, userId: string, type?: TransactionType | null): Promise<number> {
    return keysetCount(em, ledger(userId, type));
  }

  /** One of the user's rows, or null (someone else's id is not found either). */
  async find(em: EntityManager, userId: string, transactionId: string): Promise<Transaction | null> {
    return isId('transaction', transactionId) ? em.findOne(Transaction, { id: transactionId, user: userId }) : null;
  }
}

/** A user's ledger rows, optionally of one type. */
const ledger = (userId: string, type?: TransactionType | null): KeysetList<Transaction> => ({ entity: Transaction, kind: 'transaction', where: { user_id: userId, type } });

function positiveWhole(credits: number): void {
  if (!Number.isInteger(credits) || credits <= 0) throw badRequest('credits must be a positive whole number.');
}

/** A repeated reference must describe the same change; anything else is a caller bug worth surfacing. */
function sameChange(existing: Transaction, change: BalanceChange): Transaction {
  const same = existing.user.id === change.userId && existing.valueInCredits === Math.abs(change.delta) && (existing.type === 'CREDIT') === change.delta > 0;
  if (!same) throw new DomainError('CONFLICT', `A different ${change.kind} was already recorded for ${change.reference}.`);
  return existing;
}
