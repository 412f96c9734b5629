import assert from 'node:assert/strict';
import type { TestApp } from './harness';

/** What an MCP client sends for a user: its API key's token (read over REST, as an app shows it) and its user id. */
export async function mcpHeaders(t: TestApp, user: { id: string; token: string }): Promise<Record<string, string>> {
  const key = await t.rest('GET', `/users/${user.id}/api_key`, { auth: user.token });
  assert.equal(key.status, 200);
  return { authorization: `Bearer ${key.body.data.token}`, 'user-id': user.id };
}

/** GET /sse by hand: the response (stream open) and the session's message URL from the `endpoint` event. */
export async function openStream(t: TestApp, headers: Record<string, string>) {
  const abort = new AbortController();
  const response = await fetch(`${t.baseUrl}/sse`, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  if (response.status !== 200) return { response, abort, messages: '', next: async () => '' };
  const reader = response.body!.getReader();
  let buffered = '';
  const next = async () => {
    while (!buffered.includes('\n\n')) {
      const { value, done } = await reader.read();
      if (done) throw new Error('stream ended');
      buffered += Buffer.from(value).toString('utf8');
    }
    const end = buffered.indexOf('\n\n');
    const event = buffered.slice(0, end);
    buffered = buffered.slice(end + 2);
    return event;
  };
  const endpoint = await next();
  assert.match(endpoint, /^event: endpoint\ndata: \/messages\?sessionId=[0-9a-f-]{36}$/);
  return { response, abort, messages: `${t.baseUrl}${endpoint.split('data: ')[1]}`, next };
}
