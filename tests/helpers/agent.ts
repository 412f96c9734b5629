import { TestApp } from './harness';
import { until } from './until';

/** Sends an analysis as documented: multipart/form-data, each file's field name being its file name. */
export async function postAnalysis(t: TestApp, user: { id: string; token: string }, files: Record<string, Uint8Array | string>, fields: Record<string, string> = {}, headers: Record<string, string> = {}) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  for (const [name, bytes] of Object.entries(files)) form.append(name, new Blob([typeof bytes === 'string' ? bytes : Buffer.from(bytes)]), name);
  return t.restForm(`/users/${user.id}/agent/analysis`, form, user.token, headers);
}

/** Gives the user credits the way an operator does (a ledger row through the admin mutation). */
export async function grantCredits(t: TestApp, userId: string, amount: number): Promise<void> {
  const res = await t.gql('mutation ($input: AdjustCreditsInput!) { adjustCredits(input: $input) { transaction { id } userErrors { code message } } }', { input: { userId, amount, reason: 'test credits' } }, 'test_admin_api_key');
  if (res.body.errors) throw new Error(JSON.stringify(res.body.errors));
}

/** Polls the task over REST until it reaches a final status. */
export async function waitForTask(t: TestApp, user: { id: string; token: string }, taskId: string, timeoutMs = 30_000): Promise<any> {
  let task: any;
  return until(async () => {
    const res = await t.rest('GET', `/users/${user.id}/tasks/${taskId}`, { auth: user.token });
    if (res.status !== 200) throw new Error(`task fetch: ${res.status} ${JSON.stringify(res.body)}`);
    task = res.body.data;
    return (task.status === 'completed' || task.status === 'failed') && task;
  }, () => `task ${taskId} final (still ${task.status})`, { timeoutMs, intervalMs: 200 });
}
