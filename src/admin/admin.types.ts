import { Length, MaxLength } from 'class-validator';
import { ArgsType, Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { User, UserStatusEnum, type UserStatus } from '../accounts/user.entity';
import { Transaction } from '../credits/transaction.entity';
import { Connection, ConnectionArgs } from '../graphql/pagination';
import { UserError } from '../graphql/user-errors';

export const UserConnection = Connection(User, 'User');

const REASON = { description: 'Why (1 to 500 characters): kept in the user\'s security log.' } as const;

@ArgsType()
export class UserSearchArgs extends ConnectionArgs {
  @Field(() => String, { nullable: true, description: 'A fragment of the email address (case-insensitive).' }) @MaxLength(320) email?: string | null;
  @Field(() => String, { nullable: true, description: 'A fragment of the first and last name (case-insensitive).' }) @MaxLength(200) name?: string | null;
  @Field(() => UserStatusEnum, { nullable: true, description: 'Only users in this status.' }) status?: UserStatus | null;
}

@InputType({ description: 'An operator action on one account, with the reason for the security log.' })
export class UserActionInput {
  @Field(() => ID) userId!: string;
  @Field(REASON) @Length(1, 500) reason!: string;
}

@ObjectType({ description: 'The account after an operator action.' })
export class UserActionPayload {
  @Field(() => User, { nullable: true }) user?: User;
  @Field(() => [UserError]) userErrors!: UserError[];
}

@InputType({ description: 'A compensating entry for one ledger row: the other direction, all its credits or some of them.' })
export class CorrectTransactionInput {
  @Field(() => ID, { description: 'The row to compensate.' }) transactionId!: string;
  @Field(() => Int, { nullable: true, description: 'How many of the row\'s credits to compensate (default: all of them).' }) credits?: number | null;
  @Field(REASON) @Length(1, 500) reason!: string;
}

@ObjectType()
export class CorrectTransactionPayload {
  @Field(() => Transaction, { nullable: true, description: 'The compensating row written (kind CORRECTION, reference: the corrected row).' }) transaction?: Transaction;
  @Field(() => [UserError]) userErrors!: UserError[];
}
