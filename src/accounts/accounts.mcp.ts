import { mcpTool, type McpTool } from '../mcp/mcp-tool';

/** The user's fields an assistant sees (no hashes, Google or Stripe ids). */
const MCP_USER_FIELDS = 'id firstName lastName email credits isActive is2faEnabled isDarkMode createdAt updatedAt';

/*
 * No `user.update`: updateUser needs a user token (permissions.ts: API keys cannot manage the account) and
 * MCP is reached with an API key, so the tool could only ever answer FORBIDDEN.
 */
export const accountsMcp: McpTool[] = [
  mcpTool({
    name: 'user.view',
    description: 'Your Clara account: names, email, credit balance, activation, 2FA and display preference.',
    input: {},
    graphql: `query ($id: ID!) { user(id: $id) { ${MCP_USER_FIELDS} } }`,
    variables: (_input, userId) => ({ id: userId }),
  }),
];
