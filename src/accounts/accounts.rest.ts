import type { FastifyRequest } from 'fastify';
import { DomainError, unauthenticated } from '../core/errors';
import { toRestShape } from '../http/envelope';
import { bool, fieldOf, integer, nullable, object, restDate, restId, str, type RestOperation } from '../http/rest-operation';
import { USER_FIELDS } from './accounts.types';
import { OTP_TYPES } from './otp.entity';


type Params = { user_id: string; user_email: string; otp_type: string };
type Req = FastifyRequest<{ Params: Params; Body: Record<string, any> }>;

/** `{user, token}` → the documented flat user object with `token`. */
const userWithToken = (payload: { user: object; token: string }) => ({ ...(toRestShape(payload.user) as object), token: payload.token });
const nothing = () => null;
const recoveryCodes = (payload: { recoveryCodes: { codes: string[] } }) => ({ recovery_codes: payload.recoveryCodes.codes });
const code = str({ minLength: 1, maxLength: 64 });

/** The user as REST shows it; login, register and Google sign-in add the new user token. */
export const restUser = object({
  id: restId('user'), first_name: str(), last_name: nullable(str()), email: str(), credits: integer,
  is_active: bool, is_2fa_enabled: bool, is_dark_mode: bool, created_at: restDate, updated_at: restDate,
});
const restUserWithToken = object({ ...(restUser.properties as object), token: str({ pattern: '^clara_user_' }) });
const restRecoveryCodes = object({ recovery_codes: { type: 'array', items: str() } });
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
    summary: 'Register: the activation code is emailed (when mail is down, the account is made and the code can be asked for again)',
    auth: ['publicKey'],
    graphql: `mutation ($input: RegisterInput!) { register(input: $input) { token activationCodeSent user { ${USER_FIELDS} } } }`,
    body: object({ first_name: str({ minLength: 1 }), last_name: str({ minLength: 1 }), email: str({ minLength: 3 }), password: str({ minLength: 8 }) }),
    variables: (r: Req) => ({ input: { firstName: r.body.first_name, lastName: r.body.last_name, email: r.body.email, password: r.body.password } }),
    acceptsIdempotencyKey: true,
    status: 201,
    message: (payload: { activationCodeSent: boolean }) => payload.activationCodeSent
      ? 'User registered successfully. An activation code was sent by email.'
      : 'User registered, but the activation code could not be sent by email: ask for a new one with POST /users/{user_email}/otp/ACTIVATION (with this token), or register again.',
    data: object({ ...(restUserWithToken.properties as object), activation_code_sent: bool }),
    errors: [],
    present: (payload: { user: object; token: string; activationCodeSent: boolean }) => ({ ...userWithToken(payload), activation_code_sent: payload.activationCodeSent }),
  },
  {
    method: 'POST',
    url: '/auth/google',
    summary: 'Sign in (or up) with a Google ID token',
    auth: ['none', 'publicKey'],
    graphql: `mutation ($input: SignInWithGoogleInput!) { signInWithGoogle(input: $input) { token user { ${USER_FIELDS} } } }`,
    body: object({ id_token: str({ minLength: 1 }), code: str() }, ['id_token']),
    variables: (r: Req) => ({ input: { idToken: r.body.id_token, code: r.body.code ?? null } }),
    status: 201,
    message: 'User logged in with Google successfully.',
    data: restUserWithToken,
    errors: [],
    present: userWithToken,
  },
  {
    method: 'POST',
    url: '/auth/session',
    summary: 'Log in: a user token for email and password (and the second factor when on)',
    auth: ['basicAuth'],
    graphql: `mutation ($input: LoginInput!) { login(input: $input) { token user { ${USER_FIELDS} } } }`,
    body: { anyOf: [object({ code: str() }, []), { type: 'null' }] },
    variables: (r: Req) => ({ input: { ...basicCredentials(r), code: r.body?.code ?? null } }),
    status: 200,
    message: 'User logged in successfully.',
    data: restUserWithToken,
    errors: [],
    present: userWithToken,
  },
  {
    method: 'DELETE',
    url: '/auth/session',
    summary: "Log out: ends the calling token's session",
    auth: ['userToken'],
    graphql: 'mutation { logout { done } }',
    status: 204,
    message: 'User logged out successfully.',
    errors: [403],
    present: nothing,
  },
  {
    method: 'PATCH',
    url: '/users/:user_email/password',
    summary: 'Change the password with an emailed CHANGE_PASSWORD code; other sessions end',
    auth: ['publicKey', 'userToken'],
    graphql: 'mutation ($input: ChangePasswordInput!) { changePassword(input: $input) { done } }',
    body: object({ password: str({ minLength: 8 }), code }),
    variables: (r: Req) => ({ input: { email: r.params.user_email, password: r.body.password, code: r.body.code } }),
    status: 200,
    message: 'User password changed successfully.',
    errors: [403, 404],
    present: nothing,
  },
  {
    method: 'POST',
    url: '/users/:user_email/otp/:otp_type',
    summary: 'Email a one-time code (ACTIVATION, TWO_FACTOR_AUTH, CHANGE_PASSWORD)',
    auth: ['publicKey', 'userToken'],
    graphql: 'mutation ($input: SendOtpInput!) { sendOtp(input: $input) { done } }',
    variables: (r: Req) => {
      if (!(OTP_TYPES as readonly string[]).includes(r.params.otp_type)) {
        throw new DomainError('BAD_REQUEST', `otp_type must be one of ${OTP_TYPES.join(', ')}.`);
      }
      return { input: { email: r.params.user_email, type: r.params.otp_type } };
    },
    status: 201,
    message: 'OTP sent successfully.',
    errors: [403, 404],
    present: nothing,
  },
  {
    method: 'POST',
    url: '/users/:user_email/activate',
    summary: 'Activate the account with the emailed ACTIVATION code',
    auth: ['publicKey'],
    graphql: `mutation ($input: ActivateInput!) { activate(input: $input) { user { ${USER_FIELDS} } } }`,
    body: object({ code }),
    variables: (r: Req) => ({ input: { email: r.params.user_email, code: r.body.code } }),
    status: 200,
    message: 'User activated successfully.',
    data: restUser,
    errors: [404],
    present: fieldOf('user'),
  },
  {
    method: 'POST',
    url: '/users/:user_id/2fa',
    summary: 'Turn on two-factor authentication (emailed codes)',
    auth: ['userToken'],
    graphql: 'mutation ($input: SecondFactorCodeInput!) { enableTwoFactor(input: $input) { user { id } } }',
    body: object({ code }),
    variables: ownCode,
    status: 200,
    message: 'User 2FA enabled successfully.',
    errors: [403, 404],
    present: nothing,
  },
  {
    method: 'DELETE',
    url: '/users/:user_id/2fa',
    summary: 'Turn off two-factor authentication',
    auth: ['userToken'],
    graphql: 'mutation ($input: SecondFactorCodeInput!) { disableTwoFactor(input: $input) { user { id } } }',
    body: object({ code }),
    variables: ownCode,
    status: 204,
    message: 'User 2FA disabled successfully.',
    errors: [403, 404],
  },
  {
    method: 'POST',
    url: '/users/:user_id/2fa/totp',
    summary: 'Start authenticator-app setup: a secret to scan',
    auth: ['userToken'],
    graphql: 'mutation ($input: SecondFactorCodeInput!) { startTotpSetup(input: $input) { totp { secret otpauthUri } } }',
    body: object({ code }),
    variables: ownCode,
    status: 201,
    message: 'Authenticator setup started: add the secret to your app and confirm with its first code.',
    data: object({ secret: str(), otpauth_uri: str({ pattern: '^otpauth://' }) }),
    errors: [403, 404],
    present: fieldOf('totp'),
  },
  {
    method: 'POST',
    url: '/users/:user_id/2fa/totp/confirm',
    summary: 'Confirm the authenticator app with its first code: recovery codes',
    auth: ['userToken'],
    graphql: 'mutation ($input: SecondFactorCodeInput!) { confirmTotpSetup(input: $input) { recoveryCodes { codes } } }',
    body: object({ code }),
    variables: ownCode,
    status: 200,
    message: 'User 2FA with an authenticator app enabled successfully. Keep the recovery codes safe: they are shown only once.',
    data: restRecoveryCodes,
    errors: [403, 404],
    present: recoveryCodes,
  },
  {
    method: 'POST',
    url: '/users/:user_id/2fa/recovery_codes',
    summary: 'New recovery codes (earlier ones stop working)',
    auth: ['userToken'],
    graphql: 'mutation ($input: SecondFactorCodeInput!) { regenerateRecoveryCodes(input: $input) { recoveryCodes { codes } } }',
    body: object({ code }),
    variables: ownCode,
    status: 201,
    message: 'Recovery codes created: keep them safe, they are shown only once. Earlier codes no longer work.',
    data: restRecoveryCodes,
    errors: [403, 404],
    present: recoveryCodes,
  },
  {
    method: 'GET',
    url: '/users/:user_id',
    summary: 'View the account',
    auth: ['userToken', 'apiKey'],
    graphql: `query ($id: ID!) { user(id: $id) { ${USER_FIELDS} } }`,
    variables: (r: Req) => ({ id: r.params.user_id }),
    status: 200,
    message: 'User fetched successfully.',
    data: restUser,
    errors: [403, 404],
  },
  {
    method: 'PATCH',
    url: '/users/:user_id',
    summary: 'Update first_name, last_name or is_dark_mode',
    auth: ['userToken'],
    graphql: `mutation ($input: UpdateUserInput!) { updateUser(input: $input) { user { ${USER_FIELDS} } } }`,
    body: { ...object({ first_name: str({ minLength: 1 }), last_name: { type: ['string', 'null'] }, is_dark_mode: { type: 'boolean' } }, []), minProperties: 1 },
    variables: (r: Req) => ({ input: { userId: r.params.user_id, firstName: r.body.first_name, lastName: r.body.last_name, isDarkMode: r.body.is_dark_mode } }),
    status: 200,
    message: 'User updated successfully.',
    data: restUser,
    errors: [403, 404],
    present: fieldOf('user'),
  },
];
