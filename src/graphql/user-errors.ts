import { ArgumentValidationError, Field, ObjectType, registerEnumType, type MiddlewareFn } from 'type-graphql';
import { DomainError, ERROR_STATUS, type ErrorCode } from '../core/errors';
import type { Context } from './context';

export const ErrorCodeEnum = Object.fromEntries(Object.keys(ERROR_STATUS).map((code) => [code, code])) as { [K in ErrorCode]: K };
registerEnumType(ErrorCodeEnum, { name: 'ErrorCode', description: 'The stable error codes of Clara, shared by GraphQL, REST and MCP (README: "Error codes").' });

/** Refusals the caller can act on (wrong code, too few credits, a refused file): the payload carries them. */
@ObjectType({ description: 'A refusal of a mutation the client can show or act on.' })
export class UserError {
  @Field(() => [String], { nullable: true, description: 'The path of the input field at fault, e.g. ["input", "password"].' }) field!: string[] | null;
  @Field(() => ErrorCodeEnum) code!: ErrorCode;
  @Field() message!: string;
}

/** Server-side conditions stay GraphQL errors: the client cannot fix them by changing its input. */
const NOT_USER_ERRORS = new Set<ErrorCode>(['INTERNAL', 'UNAVAILABLE', 'SERVICE_UNAVAILABLE', 'RATE_LIMITED', 'METHOD_NOT_ALLOWED']);

/**
 * On a mutation: the domain's refusals (and input validation) become `userErrors` in the payload instead of
 * GraphQL errors. Permission failures never get here: the rules run before the resolver and stay errors.
 * The REST shim and MCP (`throwUserErrors`) get the DomainError itself, with its status and data.
 */
export const ReturnsUserErrors: MiddlewareFn<Context> = async ({ context }, next) => {
  try {
    return await next();
  } catch (error) {
    if (context.throwUserErrors) throw error;
    const userErrors = toUserErrors(error);
    if (!userErrors) throw error;
    return { userErrors };
  }
};

function toUserErrors(error: unknown): UserError[] | null {
  if (error instanceof DomainError) return NOT_USER_ERRORS.has(error.code) ? null : [{ field: error.field, code: error.code, message: error.message }];
  if (error instanceof ArgumentValidationError) return validationFailures(error).map(({ path, message }) => ({ field: ['input', ...path], code: 'BAD_REQUEST' as const, message }));
  return null;
}

interface ValidationDetail { property: string; constraints?: Record<string, string>; children?: ValidationDetail[] }

/**
 * class-validator's failures of an input, one per broken constraint (also how a refused query argument reads);
 * a nested input's (`@ValidateNested`) at its path, e.g. ['files', '0', 'name'].
 */
export function validationFailures(error: ArgumentValidationError): { path: string[]; message: string }[] {
  const failures = (detail: ValidationDetail, parent: string[]): { path: string[]; message: string }[] => {
    const path = [...parent, detail.property];
    if (detail.children?.length && !detail.constraints) return detail.children.flatMap((child) => failures(child, path));
    return Object.values(detail.constraints ?? { invalid: 'The input is not valid.' }).map((message) => ({ path, message }));
  };
  return ((error.extensions.validationErrors ?? []) as ValidationDetail[]).flatMap((detail) => failures(detail, []));
}
