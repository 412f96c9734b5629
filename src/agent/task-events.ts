import { setTimeout as sleep } from 'node:timers/promises';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { FastifyInstance } from 'fastify';
import type { GraphQLSchema } from 'graphql';
import type { Services } from '../app/services';
import { spendBudget } from '../graphql/budget';
import { createContext } from '../graphql/context';
import { prepareOperation } from '../graphql/prepared-operation';
import { STREAM_RETRY_AFTER_SECONDS, StreamSlots } from '../http/stream-slots';
import { routeSchema } from '../http/openapi';
import { presentFoundTask } from './agent.rest';

const POLL_MS = 500;
/** Credentials are read again this often, so logout or a key reset also ends an open stream. */
const REAUTHENTICATE_EVERY_POLLS = 10;
const MAX_STREAM_MS = 15 * 60_000;
const HEARTBEAT_MS = 15_000;

const eventsSchema = routeSchema({
  method: 'GET',
  summary: 'Live task progress (Server-Sent Events): a `task` event per status change, until completed or failed',
  auth: ['userToken', 'apiKey'],
  status: 200,
  successContent: { 'text/event-stream': { schema: { type: 'string', description: '`event: task` with the task (REST shape, without inputs) as `data`; `: keep-alive` comments in between.' } } },
  errors: [403, 404],
}, 'Agent');

/**
 * Live task progress as Server-Sent Events: `GET /users/{user_id}/tasks/{task_id}/events` sends the task
 * (REST shape) each time its status changes and closes once it is completed or failed. It reads through the
 * same `task` query, rules included, and polls the database, so any instance can serve any stream.
 */
export function registerTaskEvents(api: FastifyInstance, schema: GraphQLSchema, services: Services): void {
  const task = prepareOperation(schema, 'query ($userId: ID!, $id: ID!) { user(id: $userId) { task(id: $id) { id userId status report { raw } error cost createdAt updatedAt } } }', 'SSE task events');
  const { sseMaxStreamsPerUser, sseMaxStreams, connectionTimeoutMs } = services.config;
  const slots = new StreamSlots(
    { perOwner: sseMaxStreamsPerUser, total: sseMaxStreams },
    { perOwner: (open) => `You already have ${open} task streams open; close one first.`, total: 'Too many task streams are open right now; poll the task instead, or retry shortly.' },
  );
  const takeSlot = (userId: string) => {
    try {
      return slots.take(userId);
    } catch (error) {
      services.metrics.refusedByRateLimit('sse-streams');
      throw error;
    }
  };
  const { signal: shutdown } = services.lifecycle;
  // A comment line now and then keeps an unchanged task's stream from looking idle (CONNECTION_TIMEOUT_MS, proxies).
  const heartbeatPolls = Math.max(1, Math.floor(Math.min(HEARTBEAT_MS, connectionTimeoutMs > 0 ? connectionTimeoutMs / 2 : HEARTBEAT_MS) / POLL_MS));

  api.get<{ Params: { user_id: string; task_id: string } }>('/users/:user_id/tasks/:task_id/events', { schema: eventsSchema }, async (request, reply) => {
    let context = await createContext(services, request.headers.authorization, request.ip);
    const variables = { userId: request.params.user_id, id: request.params.task_id };
    // Opening a stream costs one read of the task; the polls that follow are the server's own.
    await spendBudget(context, task.cost(variables));
    const read = async () => {
      (context.em as EntityManager).clear();
      return presentFoundTask((await task.run(context, variables)) as Parameters<typeof presentFoundTask>[0]) as { status: string; updated_at: string };
    };
    let current = await read(); // Refusals (401/403/404) are answered as JSON before the stream opens.
    // Counted against the user whose tasks are watched (the read above proved the caller may watch them).
    const release = takeSlot(request.params.user_id); // over a cap: 429, before the stream opens

    reply.hijack();
    let closed = false;
    const onClose = () => {
      closed = true;
      release(); // the client went away: its slot is free at once, not at the next poll
    };
    reply.raw.on('close', onClose);
    if (request.raw.socket.destroyed) onClose(); // it went away while the task was being read
    try {
      reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      const send = (event: string, data: unknown) => reply.raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      send('task', current);
      const deadline = Date.now() + MAX_STREAM_MS;
      for (let poll = 1; !closed && current.status !== 'completed' && current.status !== 'failed' && Date.now() < deadline; poll++) {
        await sleep(POLL_MS, undefined, { signal: shutdown }).catch(() => undefined);
        if (shutdown.aborted) {
          // This instance is stopping: the client reconnects (to another instance) after `retry` ms.
          if (!closed) reply.raw.write(`retry: ${STREAM_RETRY_AFTER_SECONDS * 1000}\nevent: shutdown\ndata: ${JSON.stringify({ reconnect: true })}\n\n`);
          break;
        }
        if (poll % REAUTHENTICATE_EVERY_POLLS === 0) {
          const renewed = await createContext(services, request.headers.authorization, request.ip).catch(() => null);
          if (!renewed) break;
          context = renewed;
        }
        // A refused read (the session ended, the key was reset) ends the stream.
        const next = await read().catch(() => null);
        if (!next) break;
        if (next.status !== current.status || next.updated_at !== current.updated_at) send('task', next);
        else if (poll % heartbeatPolls === 0 && !closed) reply.raw.write(': keep-alive\n\n');
        current = next;
      }
    } finally {
      release();
      reply.raw.end();
    }
  });
}
