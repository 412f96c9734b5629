import { mcpTool, type McpTool } from '../mcp/mcp-tool';
import { USER_FIELDS } from './accounts.types';


/*
 * No `user.update`: updateUser needs a user token (permissions.ts: API keys cannot manage the account) and
 * MCP is reached with an API key, so the tool could only ever answer FORBIDDEN.
 */
export const accountsMcp: McpTool[] = [
  mcpTool({
    name: 'user_view',
    description: 'Your Clara account: names, email, credit balance, activation, 2FA and display preference.',
    input: {},
    graphql: `query ($id: ID!) { user(id: $id) { ${USER_FIELDS} } }`,
    variables: (_input, userId) => ({ id: userId }),
  }),
];
