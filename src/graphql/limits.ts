import type { ApolloServerOptionsWithSchema, ApolloServerPlugin } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import { GraphQLError, Kind, type ASTVisitor, type SelectionSetNode, type ValidationContext, type ValidationRule } from 'graphql';
import type { GraphQLLimitsConfig } from '../core/config';
import { DomainError, type ErrorCode } from '../core/errors';
import { budgetPlugin } from './budget';
import type { Context } from './context';

/*
 * Limits on what one /graphql document may ask, checked before it runs (the REST and MCP documents are
 * ours and skip them). Tokens bound the parser itself (graphql-js stops lexing past the limit, before an
 * AST is built); aliases, depth and directives are Graphql Armor's validation rules, root fields our own;
 * Apollo validates a document once and caches it, so these run once per distinct query text. Cost,
 * what keyless callers may call and the rate limit depend on the caller and variables: src/graphql/budget.ts.
 * Every refusal is a 400 with a stable extensions.code and a message that does not echo the document.
 */
export function operationLimits(limits: GraphQLLimitsConfig): { server: Pick<ApolloServerOptionsWithSchema<Context>, 'parseOptions' | 'validationRules' | 'introspection'>; plugins: ApolloServerPlugin<Context>[] } {
  const armorRule = (code: ErrorCode, message: string, n: number) => ({
    enabled: n > 0,
    n,
    propagateOnRejection: false,
    onReject: [(ctx: ValidationContext | null) => ctx?.reportError(limitError(code, message))],
  });
  const armor = new ApolloArmor({
    maxAliases: armorRule('TOO_MANY_ALIASES', `Too many aliases: at most ${limits.maxAliases} per operation.`, limits.maxAliases),
    maxDepth: { ...armorRule('QUERY_TOO_DEEP', `The query is too deep: at most ${limits.maxDepth} levels.`, limits.maxDepth), ignoreIntrospection: true },
    maxDirectives: armorRule('TOO_MANY_DIRECTIVES', `Too many directives: at most ${limits.maxDirectives} per operation.`, limits.maxDirectives),
    // Tokens: Apollo's own parser option below (Armor's plugin parses every document a second time).
    maxTokens: { enabled: false },
    // Cost needs page sizes from variables and the caller: budget.ts. Suggestions: formatGraphQLError.
    costLimit: { enabled: false },
    blockFieldSuggestion: { enabled: false },
  }).protect();

  const validationRules = [...armor.validationRules];
  if (limits.maxRootFields > 0) validationRules.push(maxRootFieldsRule(limits.maxRootFields));
  if (!limits.introspection) validationRules.push(noIntrospectionRule);
  return {
    server: {
      parseOptions: limits.maxTokens > 0 ? { maxTokens: limits.maxTokens } : {},
      validationRules,
      // Our own rule above refuses introspection with our code and wording when it is off.
      introspection: true,
    },
    plugins: [...armor.plugins, budgetPlugin(limits)],
  };
}

/** A validation error carrying a DomainError, which formatGraphQLError turns into its code and status. */
function limitError(code: ErrorCode, message: string): GraphQLError {
  return new GraphQLError(message, { originalError: new DomainError(code, message) });
}

/**
 * Root fields per operation, counted through fragments by response key: aliases of one field count each,
 * while repeats of one name merge into one field when executed and count once.
 */
function maxRootFieldsRule(max: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(operation) {
      const keys = new Set<string>();
      const fragments = new Set<string>();
      const collect = (selectionSet: SelectionSetNode): void => {
        for (const selection of selectionSet.selections) {
          if (selection.kind === Kind.FIELD) keys.add((selection.alias ?? selection.name).value);
          else if (selection.kind === Kind.INLINE_FRAGMENT) collect(selection.selectionSet);
          else if (!fragments.has(selection.name.value)) {
            fragments.add(selection.name.value);
            const fragment = context.getFragment(selection.name.value);
            if (fragment) collect(fragment.selectionSet);
          }
        }
      };
      collect(operation.selectionSet);
      if (keys.size > max) context.reportError(limitError('TOO_MANY_ROOT_FIELDS', `Too many root fields: at most ${max} per operation.`));
    },
  });
}

const noIntrospectionRule: ValidationRule = (context) => ({
  Field(node) {
    if (node.name.value === '__schema' || node.name.value === '__type') context.reportError(limitError('INTROSPECTION_DISABLED', 'Introspection is disabled.'));
  },
});

/**
 * graphql-js reports the token limit as a syntax error; it is answered with its own code. Its wording
 * ("more that N tokens") is graphql-js's: a test fails if it changes.
 */
export function tokenLimitError(error: unknown): DomainError | undefined {
  const original = (error as { originalError?: unknown })?.originalError ?? error;
  if (original instanceof GraphQLError && /^Syntax Error: Document contains more that (\d+) tokens/.test(original.message)) {
    const limit = /(\d+) tokens/.exec(original.message)![1];
    return new DomainError('TOO_MANY_TOKENS', `The query is too long: at most ${limit} tokens.`);
  }
  return undefined;
}

/** "Did you mean …?" hints name fields and values of the schema: gone unless GRAPHQL_SUGGESTIONS allows them. */
export function withoutSuggestions(message: string): string {
  return message.replace(/ ?Did you mean [^?]*\?/g, '');
}
