import { IsEmail, Length, MaxLength, MinLength } from 'class-validator';
import { Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { UserError } from '../graphql/user-errors';
import { IdempotencyKeyField } from '../idempotency/idempotency.types';
import { OTP_TYPES, type OtpType } from './otp.entity';
import { User } from './user.entity';

/** The user's public fields, as the REST shim and MCP select them (never hashes, Google or Stripe ids). */
export const USER_FIELDS = 'id firstName lastName email credits isActive is2faEnabled isDarkMode createdAt updatedAt';

export const OtpTypeEnum = Object.fromEntries(OTP_TYPES.map((type) => [type, type])) as { [K in OtpType]: K };
registerEnumType(OtpTypeEnum, { name: 'OtpType', description: 'What an emailed one-time code is for.' });

@InputType()
export class RegisterInput {
  @Field() @Length(1, 200) firstName!: string;
  @Field() @Length(1, 200) lastName!: string;
  @Field() @IsEmail({}, { message: 'email must be a valid email address' }) @MaxLength(320) email!: string;
  @Field({ description: 'At least 8 characters.' }) @MinLength(8, { message: 'password must be at least 8 characters long' }) @MaxLength(1024) password!: string;
  @IdempotencyKeyField() idempotencyKey?: string | null;
}

@InputType()
export class LoginInput {
  @Field() @MaxLength(320) email!: string;
  @Field() @MaxLength(1024) password!: string;
  @Field(() => String, { nullable: true, description: 'The second-factor code, when 2FA is on.' }) @MaxLength(64) code?: string | null;
}

@InputType()
export class SignInWithGoogleInput {
  @Field({ description: 'A Google ID token (from Google Identity Services).' }) @MaxLength(8192) idToken!: string;
  @Field(() => String, { nullable: true, description: 'The second-factor code (or a recovery code), when 2FA is on.' }) @MaxLength(64) code?: string | null;
}

@InputType()
export class SendOtpInput {
  @Field() @MaxLength(320) email!: string;
  @Field(() => OtpTypeEnum) type!: OtpType;
}

@InputType()
export class ActivateInput {
  @Field() @MaxLength(320) email!: string;
  @Field({ description: 'The ACTIVATION code from the email.' }) @MaxLength(64) code!: string;
}

@InputType()
export class ChangePasswordInput {
  @Field({ description: 'The account\'s email (yours, with a user token; any, with the public key).' }) @MaxLength(320) email!: string;
  @Field() @MinLength(8, { message: 'password must be at least 8 characters long' }) @MaxLength(1024) password!: string;
  @Field({ description: 'A CHANGE_PASSWORD code from sendOtp.' }) @MaxLength(64) code!: string;
}

/** The account a mutation acts on: the caller's own, which is also the default (REST passes its path's user id). */
export const OWN_ACCOUNT = { nullable: true, description: 'Your user id (the default); any other is refused.' } as const;

@InputType()
export class SecondFactorCodeInput {
  @Field(() => ID, OWN_ACCOUNT) userId?: string | null;
  @Field({ description: 'The code that proves the change (see each mutation).' }) @MaxLength(64) code!: string;
}

@InputType({ description: 'The fields a user may change; anything else is refused.' })
export class UpdateUserInput {
  @Field(() => ID, OWN_ACCOUNT) userId?: string | null;
  @Field({ nullable: true }) @Length(1, 200) firstName?: string;
  @Field(() => String, { nullable: true }) @MaxLength(200) lastName?: string | null;
  @Field({ nullable: true }) isDarkMode?: boolean;
}

@ObjectType({ description: 'A signed-in user and the user token to send as `Authorization: Bearer <token>`.' })
export class AuthPayload {
  @Field(() => User, { nullable: true }) user?: User;
  @Field({ nullable: true }) token?: string;
  @Field(() => Boolean, {
    nullable: true,
    description: 'register only: false when the activation code could not be mailed. The account exists: ask for a code again with sendOtp (sending this token keeps it bound to this sign-up), or register again.',
  })
  activationCodeSent?: boolean;
  @Field(() => [UserError]) userErrors!: UserError[];
}

@ObjectType()
export class UserPayload {
  @Field(() => User, { nullable: true }) user?: User;
  @Field(() => [UserError]) userErrors!: UserError[];
}

@ObjectType({ description: 'done is true when the mutation did its work, null when it answers userErrors instead.' })
export class DonePayload {
  @Field(() => Boolean, { nullable: true }) done?: boolean;
  @Field(() => [UserError]) userErrors!: UserError[];
}

@ObjectType({ description: 'An authenticator-app secret to scan (otpauthUri) or type in; confirm it with a first code.' })
export class TotpSetup {
  @Field() secret!: string;
  @Field() otpauthUri!: string;
}

@ObjectType()
export class StartTotpSetupPayload {
  @Field(() => TotpSetup, { nullable: true }) totp?: TotpSetup;
  @Field(() => [UserError]) userErrors!: UserError[];
}

@ObjectType({ description: 'Single-use codes that stand in for a second-factor code when the authenticator or mailbox is lost. Shown only once; only hashes are kept.' })
export class RecoveryCodes {
  @Field(() => [String]) codes!: string[];
}

@ObjectType()
export class RecoveryCodesPayload {
  @Field(() => RecoveryCodes, { nullable: true }) recoveryCodes?: RecoveryCodes;
  @Field(() => User, { nullable: true }) user?: User;
  @Field(() => [UserError]) userErrors!: UserError[];
}
