import type { FastifyRequest } from 'fastify';
import { DomainError, unauthenticated } from '../core/errors';
import { toRestShape } from '../http/envelope';
import { fieldOf, object, str, type RestOperation } from '../http/rest-operation';
import { USER_FIELDS } from './accounts.types';
import { OTP_TYPES } from './otp.entity';


type Params = { user_id: string; user_email: string; otp_type: string };
type Req = FastifyRequest<{ Params: Params; Body: Record<string, any> }>;

/** `{user, token}` → the documented flat user object with `token`. */
const userWithToken = (payload: { user: object; token: string }) => ({ ...(toRestShape(payload.user) as object), token: payload.token });
const nothing = () => null;
const recoveryCodes = (payload: { recoveryCodes: { codes: string[] } }) => ({ recovery_codes: payload.recoveryCodes.codes });
const code = str({ minLength: 1, maxLength: 64 });
/** The path's user and the body's code: the input of the second-factor mutations. */
const ownCode = (r: Req) => ({ input: { userId: r.params.user_id, code: r.body.code } });

/** HTTP Basic `email:password`, the documented way to log in. */
function basicCredentials(request: FastifyRequest): { email: string; password: string } {
  const header = request.headers.authorization ?? '';
  const match = /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  const decoded = match ? Buffer.from(match[1], 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  if (colon < 1) throw unauthenticated('Log in with HTTP Basic authentication: base64 of email:password.');
  return { email: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export const accountsRest: RestOperation[] = [
  {
    method: 'POST',
    url: '/auth/register',
    graphql: `mutation ($input: RegisterInput!) { register(input: $input) { token activationCodeSent user { ${USER_FIELDS} } } }`,
    body: object({ first_name: str({ minLength: 1 }), last_name: str({ minLength: 1 }), email: str({ minLength: 3 }), password: str({ minLength: 8 }) }),
    variables: (r: Req) => ({ input: { firstName: r.body.first_name, lastName: r.body.last_name, email: r.body.email, password: r.body.password } }),
    acceptsIdempotencyKey: true,
    status: 201,
    message: (payload: { activationCodeSent: boolean }) => payload.activationCodeSent
      ? 'User registered successfully. An activation code was sent by email.'
      : 'User registered, but the activation code could not be sent by email: ask for a new one with POST /users/{user_email}/otp/ACTIVATION (with this token), or register again.',
    present: (payload: { user: object; token: string; activationCodeSent: boolean }) => ({ ...userWithToken(payload), activation_code_sent: payload.activationCodeSent }),
  },
  {
    method: 'POST',
    url: '/auth/google',
    graphql: `mutation ($input: SignInWithGoogleInput!) { signInWithGoogle(input: $input) { token user { ${USER_FIELDS} } } }`,
    body: object({ id_token: str({ minLength: 1 }), code: str() }, ['id_token']),
    variables: (r: Req) => ({ input: { idToken: r.body.id_token, code: r.body.code ?? null } }),
    status: 201,
    message: 'User logged in with Google successfully.',
    present: userWithToken,
  },
  {
    method: 'POST',
    url: '/auth/session',
    graphql: `mutation ($input: LoginInput!) { login(input: $input) { token user { ${USER_FIELDS} } } }`,
    body: { anyOf: [object({ code: str() }, []), { type: 'null' }] },
    variables: (r: Req) => ({ input: { ...basicCredentials(r), code: r.body?.code ?? null } }),
    status: 200,
    message: 'User logged in successfully.',
    present: userWithToken,
  },
  {
    method: 'DELETE',
    url: '/auth/session',
    graphql: 'mutation { logout { done } }',
    status: 204,
    message: 'User logged out successfully.',
    present: nothing,
  },
  {
    method: 'PATCH',
    url: '/users/:user_email/password',
    graphql: 'mutation ($input: ChangePasswordInput!) { changePassword(input: $input) { done } }',
    body: object({ password: str({ minLength: 8 }), code }),
    variables: (r: Req) => ({ input: { email: r.params.user_email, password: r.body.password, code: r.body.code } }),
    status: 200,
    message: 'User password changed successfully.',
    present: nothing,
  },
  {
    method: 'POST',
    url: '/users/:user_email/otp/:otp_type',
    graphql: 'mutation ($input: SendOtpInput!) { sendOtp(input: $input) { done } }',
    variables: (r: Req) => {
      if (!(OTP_TYPES as readonly string[]).includes(r.params.otp_type)) {
        throw new DomainError('BAD_REQUEST', `otp_type must be one of ${OTP_TYPES.join(', ')}.`);
      }
      return { input: { email: r.params.user_email, type: r.params.otp_type } };
    },
    status: 201,
    message: 'OTP sent successfully.',
    present: nothing,
  },
  {
    method: 'POST',
    url: '/users/:user_email/activate',
    graphql: `mutation ($input: ActivateInput!) { activate(input: $input) { user { ${USER_FIELDS} } } }`,
    body: object({ code }),
    variables: (r: Req) => ({ input: { email: r.params.user_email, code: r.body.code } }),
    status: 200,
    message: 'User activated successfully.',
    present: fieldOf('user'),
  },
  {
    method: 'POST',
    url: '/users/:user_id/2fa',
    graphql: 'mutation ($input: SecondFactorCodeInput!) { enableTwoFactor(input: $input) { user { id } } }',
    body: object({ code }),
    variables: ownCode,
    status: 200,
    message: 'User 2FA enabled successfully.',
    present: nothing,
  },
  {
    method: 'DELETE',
    url: '/users/:user_id/2fa',
    graphql: 'mutation ($input: SecondFactorCodeInput!) { disableTwoFactor(input: $input) { user { id } } }',
    body: object({ code }),
    variables: ownCode,
    status: 204,
    message: 'User 2FA disabled successfully.',
  },
  {
    method: 'POST',
    url: '/users/:user_id/2fa/totp',
    graphql: 'mutation ($input: SecondFactorCodeInput!) { startTotpSetup(input: $input) { totp { secret otpauthUri } } }',
    body: object({ code }),
    variables: ownCode,
    status: 201,
    message: 'Authenticator setup started: add the secret to your app and confirm with its first code.',
    present: fieldOf('totp'),
  },
  {
    method: 'POST',
    url: '/users/:user_id/2fa/totp/confirm',
    graphql: 'mutation ($input: SecondFactorCodeInput!) { confirmTotpSetup(input: $input) { recoveryCodes { codes } } }',
    body: object({ code }),
    variables: ownCode,
    status: 200,
    message: 'User 2FA with an authenticator app enabled successfully. Keep the recovery codes safe: they are shown only once.',
    present: recoveryCodes,
  },
  {
    method: 'POST',
    url: '/users/:user_id/2fa/recovery_codes',
    graphql: 'mutation ($input: SecondFactorCodeInput!) { regenerateRecoveryCodes(input: $input) { recoveryCodes { codes } } }',
    body: object({ code }),
    variables: ownCode,
    status: 201,
    message: 'Recovery codes created: keep them safe, they are shown only once. Earlier codes no longer work.',
    present: recoveryCodes,
  },
  {
    method: 'GET',
    url: '/users/:user_id',
    graphql: `query ($id: ID!) { user(id: $id) { ${USER_FIELDS} } }`,
    variables: (r: Req) => ({ id: r.params.user_id }),
    status: 200,
    message: 'User fetched successfully.',
  },
  {
    method: 'PATCH',
    url: '/users/:user_id',
    graphql: `mutation ($input: UpdateUserInput!) { updateUser(input: $input) { user { ${USER_FIELDS} } } }`,
    body: { ...object({ first_name: str({ minLength: 1 }), last_name: { type: ['string', 'null'] }, is_dark_mode: { type: 'boolean' } }, []), minProperties: 1 },
    variables: (r: Req) => ({ input: { userId: r.params.user_id, firstName: r.body.first_name, lastName: r.body.last_name, isDarkMode: r.body.is_dark_mode } }),
    status: 200,
    message: 'User updated successfully.',
    present: fieldOf('user'),
  },
];
