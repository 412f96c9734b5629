import { allow, chain, deny, or, rule, shield } from 'graphql-shield';
import type { GraphQLFieldResolver, GraphQLResolveInfo, GraphQLSchema } from 'graphql';
import { applyMiddleware, type IMiddleware } from 'graphql-middleware';
import { ArgumentValidationError } from 'type-graphql';
import { normalizeEmail } from '../accounts/accounts.service';
import { User } from '../accounts/user.entity';
import { callerUser } from '../auth/caller';
import { asDomainError } from '../database/connection-errors';
import { DomainError, forbidden, notFound, unauthenticated } from '../core/errors';
import type { Context } from './context';
import { validationFailures } from './user-errors';

/*
 * Who may call what: one rule set for GraphQL and, through it, for the REST shim. Deny by default:
 * a query or mutation without a rule here is refused.
 */

const notSignedIn = (ctx: Context) =>
  ctx.caller.kind === 'rejected' ? unauthenticated(ctx.caller.reason) : unauthenticated('Authentication is required: send a user token or an API key token.');

/** A user token or an API key token. */
const isAccountCaller = rule({ cache: 'contextual' })((_parent, _args, ctx: Context) => (callerUser(ctx.caller) ? true : notSignedIn(ctx)));

/** A user token only (API keys cannot manage the account). */
const isUserToken = rule({ cache: 'contextual' })((_parent, _args, ctx: Context) => {
  if (ctx.caller.kind === 'user') return true;
  return ctx.caller.kind === 'apiKey' ? forbidden('This operation needs a user token, not an API key.') : notSignedIn(ctx);
});

const isPublicKey = rule({ cache: 'contextual' })((_parent, _args, ctx: Context) =>
  ctx.caller.kind === 'public' ? true : ctx.caller.kind === 'rejected' ? notSignedIn(ctx) : unauthenticated('This operation needs the public API key.'),
);

const isAdmin = rule({ cache: 'contextual' })((_parent, _args, ctx: Context) =>
  ctx.caller.kind === 'admin' ? true : unauthenticated('This operation needs the admin key.'),
);

/** Until activated, a signed-in user may only view and update themselves and log out (as the original API). */
const isActive = rule({ cache: 'contextual' })((_parent, _args, ctx: Context) =>
  callerUser(ctx.caller)?.isActive ? true : unauthenticated('The account is not activated yet: activate it with the emailed code.'),
);

/** A user id, when one is named, must be the caller's: someone else's id is 403, an unknown id 404. */
async function ownUser(requested: unknown, ctx: Context) {
  const me = callerUser(ctx.caller);
  if (!me) return notSignedIn(ctx);
  if (requested === undefined || requested === null || requested === me.id) return true;
  const exists = typeof requested === 'string' && (await ctx.em.count(User, { id: requested })) > 0;
  return exists ? forbidden('You can only access your own account.') : notFound('User not found.');
}
/** `user(id:)` (or another argument naming a user): the id is required and must be the caller's. */
const ownsIdArgNamed = (name: string) => rule(`ownsIdArg:${name}`, { cache: 'no_cache' })((_parent, args: Record<string, unknown>, ctx: Context) => ownUser(args[name] ?? '', ctx));
const ownsIdArg = ownsIdArgNamed('id');
/** Mutations on one's own account: `input.userId` is optional (REST passes its path's id) and must be the caller's. */
const ownsInputUser = rule({ cache: 'no_cache' })((_parent, args: { input?: { userId?: unknown } }, ctx: Context) => ownUser(args.input?.userId, ctx));

/** The public key (forgotten password, sign-up codes), or a user token whose own email is the input's. */
const isPublicKeyOrOwnEmail = rule({ cache: 'no_cache' })((_parent, args: { input?: { email?: unknown } }, ctx: Context) => {
  if (ctx.caller.kind === 'public') return true;
  if (ctx.caller.kind !== 'user') return ctx.caller.kind === 'apiKey' ? forbidden('This operation needs a user token or the public key.') : notSignedIn(ctx);
  const email = args.input?.email;
  return typeof email === 'string' && normalizeEmail(email) === ctx.caller.user.email ? true : forbidden('You can only do this for your own account.');
});

/** Login and code endpoints: a budget per client IP and per account, against guessing. */
const throttledByAccount = (emailOf: (args: any) => unknown) =>
  rule({ cache: 'no_cache' })(async (_parent, args, ctx: Context) => {
    const email = emailOf(args);
    try {
      await ctx.services.rateLimits.consumeAuthAttempt(ctx.ip, typeof email === 'string' ? normalizeEmail(email) : undefined);
      return true;
    } catch (error) {
      // Rules must return their errors: shield turns a thrown one into a plain "not allowed".
      if (error instanceof DomainError) return error;
      throw error;
    }
  });
const throttled = throttledByAccount((args) => args.input?.email);
const throttledByIp = throttledByAccount(() => undefined);

/** Account management on one's own user: a user token, the input's user is the caller, the account is active. */
const own = chain(isUserToken, ownsInputUser, isActive);
/** Reading or spending with a user token or an API key, on an activated account. */
const activeAccount = chain(isAccountCaller, isActive);

/**
 * Object types every field of which may be read by whoever was allowed to reach the object through a root
 * field above. A type missing here (and from the tree) is denied field by field: new types fail closed.
 */
const OPEN_TYPES = [
  'AuthPayload', 'ApiKey', 'Health', 'TotpSetup', 'RateTier', 'CreditCheckout', 'BillingPortal', 'Transaction', 'TransactionEdge', 'TransactionConnection',
  'PageInfo', 'Task', 'TaskInput', 'TaskEdge', 'TaskConnection', 'AttachmentCategoryType', 'Money', 'UserError', 'UserPayload', 'DonePayload',
  'StartTotpSetupPayload', 'BuyCreditsPayload', 'OpenBillingPortalPayload', 'AdjustCreditsPayload', 'StartAnalysisPayload', 'ResetApiKeyPayload',
  'AnalysisReport', 'ReportProvider', 'ReportClaim', 'ReportFinding', 'ReportFile', 'ImageFacts', 'MediaFacts', 'DocumentFacts',
  'RateLimit', 'Session', 'SecurityEvent', 'SecurityEventDetail', 'SecurityEventEdge', 'SecurityEventConnection', 'RevokeSessionsPayload', 'RecoveryCodes', 'RecoveryCodesPayload',
  'UserEdge', 'UserConnection', 'UserActionPayload', 'CorrectTransactionPayload',
] as const;

/**
 * The User whose field is read is the caller's own. viewer, user(id:) and node(id:) only ever lead there, but a
 * mutation payload may carry another user (a signed-in caller logging in with someone else's password).
 */
const isCallersUser = rule({ cache: 'no_cache' })((parent: { id?: unknown }, _args, ctx: Context) =>
  parent.id === callerUser(ctx.caller)?.id ? true : forbidden('Only your own account\'s details can be read; sign in as that user.'),
);

/** The admin key, refused without an error of its own: shield's `or` evaluates every rule, and an error costs a stack trace. */
const isAdminOrNothing = rule({ cache: 'contextual' })((_parent, _args, ctx: Context) => ctx.caller.kind === 'admin');

/** The owner's rule for a User field, or the admin key (adminUser's recent activity); the owner's refusal is the one shown. */
const ownerOrAdmin = (ownerRule: ReturnType<typeof chain>) => or(ownerRule, isAdminOrNothing);

/** Types with a few guarded fields: every other field is open (and left unwrapped, like OPEN_TYPES). */
const GUARDED_FIELDS = {
  User: {
    apiKey: chain(isCallersUser, isUserToken, isActive),
    transactions: ownerOrAdmin(chain(isCallersUser, isActive)),
    transaction: ownerOrAdmin(chain(isCallersUser, isActive)),
    tasks: ownerOrAdmin(chain(isCallersUser, isActive)),
    task: ownerOrAdmin(chain(isCallersUser, isActive)),
    sessions: chain(isCallersUser, isUserToken, isActive),
    securityLog: ownerOrAdmin(chain(isCallersUser, isUserToken, isActive)),
  },
};

export const ruleTree = {
    ...Object.fromEntries(OPEN_TYPES.map((type) => [type, allow])),
    ...Object.fromEntries(Object.entries(GUARDED_FIELDS).map(([type, fields]) => [type, { '*': allow, ...fields }])),
    Query: {
      '*': deny,
      health: allow,
      version: allow,
      rateLimit: allow,
      viewer: isAccountCaller,
      user: chain(isAccountCaller, ownsIdArg),
      node: activeAccount,
      nodes: activeAccount,
      stripeRate: activeAccount,
      supportedAttachments: activeAccount,
      userSecurityLog: or(chain(isUserToken, ownsIdArgNamed('userId'), isActive), isAdmin),
      adminUsers: isAdmin,
      adminUser: isAdmin,
    },
    Mutation: {
      '*': deny,
      register: chain(isPublicKey, throttledByIp),
      signInWithGoogle: throttledByIp,
      login: throttled,
      logout: isUserToken,
      sendOtp: chain(isPublicKeyOrOwnEmail, throttled),
      activate: chain(isPublicKey, throttled),
      changePassword: chain(isPublicKeyOrOwnEmail, throttled),
      enableTwoFactor: own,
      disableTwoFactor: own,
      startTotpSetup: own,
      confirmTotpSetup: own,
      regenerateRecoveryCodes: own,
      updateUser: chain(isUserToken, ownsInputUser),
      resetApiKey: own,
      buyCredits: activeAccount,
      portal: activeAccount,
      adjustCredits: isAdmin,
      correctTransaction: isAdmin,
      deactivateUser: isAdmin,
      reactivateUser: isAdmin,
      eraseUser: isAdmin,
      startAnalysis: chain(isAccountCaller, ownsInputUser, isActive),
      revokeSession: own,
      revokeSessions: own,
    },
    // Checked when subscribing, before any event (see applyPermissions), and again on each event.
    Subscription: {
      '*': deny,
      taskUpdated: activeAccount,
      balanceChanged: activeAccount,
    },
};

/**
 * The only root fields a caller without credentials of its own (no header, an invalid one, the public key)
 * may name in a /graphql document; anything else refuses the whole document before it runs (budget.ts).
 */
export const KEYLESS_ROOT_FIELDS: ReadonlySet<string> = new Set([
  'health', 'version', 'rateLimit', '__typename', '__schema', '__type',
  'register', 'activate', 'sendOtp', 'changePassword', 'login', 'signInWithGoogle',
]);

const permissions = shield(ruleTree, {
  fallbackRule: deny,
  allowExternalErrors: false,
  fallbackError: exposeOnlyDomainErrors,
});

/**
 * Wraps the schema's resolvers with the rules. Fields of OPEN_TYPES are left unwrapped: their rule is
 * `allow`, and skipping an async wrapper per scalar field keeps large result lists cheap.
 */
export function applyPermissions(schema: GraphQLSchema): GraphQLSchema {
  const generated = permissions.generate(schema) as Record<string, Record<string, unknown>>;
  for (const type of OPEN_TYPES) delete generated[type];
  for (const [type, fields] of Object.entries(GUARDED_FIELDS)) {
    for (const field of Object.keys(generated[type] ?? {})) if (!(field in fields)) delete generated[type][field];
  }
  return guardSubscribe(applyMiddleware(schema, generated as unknown as IMiddleware), generated.Subscription ?? {});
}

type FieldMiddleware = (resolve: GraphQLFieldResolver<unknown, unknown>, ...args: Parameters<GraphQLFieldResolver<unknown, unknown>>) => unknown;

/**
 * graphql-middleware wraps a field's `resolve`, and its `subscribe` only when it has no resolve of its own.
 * type-graphql gives subscription fields both, so their rules would run per event but not when subscribing:
 * the same rule wraps `subscribe` here, so a refused subscription gets its error before any event is read.
 */
function guardSubscribe(schema: GraphQLSchema, rules: Record<string, unknown>): GraphQLSchema {
  for (const [name, field] of Object.entries(schema.getSubscriptionType()?.getFields() ?? {})) {
    const subscribe = field.subscribe;
    // shield hands a logic rule's (chain, or) middleware over as `{ fragments, resolve }`.
    const generated = rules[name] as FieldMiddleware | { resolve: FieldMiddleware } | undefined;
    const guard = typeof generated === 'function' ? generated : generated?.resolve;
    if (!subscribe) continue;
    if (!guard) throw new Error(`Subscription.${name} has no permission rule`);
    field.subscribe = (parent, args, context, info) => guard(subscribe, parent, args, context, info);
  }
  return schema;
}

/**
 * With external errors off, everything a rule or resolver throws arrives here: domain errors and input
 * validation pass through (they are meant for the client); anything else becomes an opaque internal error.
 */
function exposeOnlyDomainErrors(thrown: unknown, _parent: unknown, _args: unknown, context: unknown, info: GraphQLResolveInfo): Error {
  const ctx = context as Context;
  const known = asDomainError(thrown);
  if (known) return known;
  if (thrown instanceof ArgumentValidationError) {
    const messages = validationFailures(thrown).map((failure) => failure.message);
    return new DomainError('BAD_REQUEST', messages.length ? messages.join('; ') : 'The input is not valid.');
  }
  if (thrown === null || thrown === undefined) return forbidden('You are not allowed to do this.');
  ctx.services.log.error({ err: thrown, field: `${info.parentType.name}.${info.fieldName}` }, 'unexpected error in a resolver');
  return new DomainError('INTERNAL', 'Internal server error.');
}
