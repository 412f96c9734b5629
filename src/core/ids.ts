import { randomUUID } from 'node:crypto';

export type IdKind = 'user' | 'api_key' | 'transaction' | 'task' | 'otp' | 'session' | 'purchase' | 'security_event' | 'code_attempt' | 'recovery_code' | 'registration' | 'upload';

/** IDs in the documented form: `<kind>_<32 lowercase hex>`. */
export function newId(kind: IdKind): string {
  return `${kind}_${randomUUID().replace(/-/g, '')}`;
}

export function isId(kind: IdKind, value: unknown): value is string {
  return typeof value === 'string' && value.length === kind.length + 33 && value.startsWith(`${kind}_`) && /^[0-9a-f]{32}$/.test(value.slice(kind.length + 1));
}
