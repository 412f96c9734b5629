import type { EntityManager } from '@mikro-orm/postgresql';
import type { FastifyInstance } from 'fastify';
import type { GraphQLSchema } from 'graphql';
import type { Services } from '../app/services';
import { callerUser } from '../auth/caller';
import { spendBudget } from '../graphql/budget';
import { createContext } from '../graphql/context';
import { prepareOperation } from '../graphql/prepared-operation';
import { ChangeSignal } from '../events/latest-state';
import { routeSchema } from '../http/openapi';
import { heartbeatMs, STREAM_RETRY_AFTER_SECONDS, StreamSlots } from '../http/stream-slots';
import { presentFoundTask } from './agent.rest';

const MAX_STREAM_MS = 15 * 60_000;

const eventsSchema = routeSchema({
  method: 'GET',
  summary: 'Live task progress (Server-Sent Events): a `task` event per status change, until completed or failed',
  auth: ['userToken', 'apiKey'],
  status: 200,
  successContent: { 'text/event-stream': { schema: { type: 'string', description: '`event: task` with the task (REST shape, without inputs) as `data`; `: keep-alive` comments in between; `event: shutdown` with a `retry:` hint when this instance stops.' } } },
  errors: [403, 404],
}, 'Agent');

export interface TaskEventStreams {
  /** Ends every open stream (shutdown). */
  close(): void;
}

/**
 * Live task progress as Server-Sent Events: `GET /users/{user_id}/tasks/{task_id}/events` sends the task
 * (REST shape) each time its status changes and closes once it is completed or failed. It waits for the
 * change events the database announces (src/events; any process's change, so any instance can serve any
 * stream), re-reads through the same `task` query, rules included, and re-checks the credentials whenever
 * the database says the caller's sessions or key changed: logout or a key reset ends the stream.
 */
export function registerTaskEvents(api: FastifyInstance, schema: GraphQLSchema, services: Services): TaskEventStreams {
  const task = prepareOperation(schema, 'query ($userId: ID!, $id: ID!) { user(id: $userId) { task(id: $id) { id userId status report { raw } error cost createdAt updatedAt } } }', 'SSE task events');
  const { sseMaxStreamsPerUser, sseMaxStreams, connectionTimeoutMs } = services.config;
  const slots = new StreamSlots(
    { perOwner: sseMaxStreamsPerUser, total: sseMaxStreams },
    { perOwner: (open) => `You already have ${open} task streams open; close one first.`, total: 'Too many task streams are open right now; poll the task instead, or retry shortly.' },
    { onRefused: () => services.metrics.refusedByRateLimit('sse-streams'), closing: services.lifecycle.signal },
  );
  const { signal: shutdown } = services.lifecycle;
  const heartbeatEvery = heartbeatMs(connectionTimeoutMs);
  const open = new Set<ChangeSignal>();
  const closeAll = () => {
    for (const signal of open) signal.close();
  };
  // Shutdown starts: every stream ends with a reconnect hint (see below), before the server stops accepting.
  shutdown.addEventListener('abort', closeAll, { once: true });

  api.get<{ Params: { user_id: string; task_id: string } }>('/users/:user_id/tasks/:task_id/events', { schema: eventsSchema }, async (request, reply) => {
    let context = await createContext(services, request.headers.authorization, request.ip);
    const variables = { userId: request.params.user_id, id: request.params.task_id };
    // Opening a stream costs one read of the task; the reads that follow are the server's own.
    await spendBudget(context, task.cost(variables));
    const read = async () => {
      (context.em as EntityManager).clear();
      return presentFoundTask((await task.run(context, variables)) as Parameters<typeof presentFoundTask>[0]) as { status: string; updated_at: string };
    };
    // Listening starts before the first read, so a change in between is not missed.
    const changed = new ChangeSignal();
    let credentialsChanged = false;
    const recheck = () => {
      credentialsChanged = true;
      changed.notify();
    };
    const caller = callerUser(context.caller);
    const stopListening = [
      services.events.on('task', (event) => event.taskId === variables.id && changed.notify(), variables.userId),
      services.events.on('resync', recheck),
      // Without a user the read below refuses the stream anyway.
      ...(caller ? [services.events.on('caller', recheck, caller.id)] : []),
    ];
    let release: () => void = () => undefined;
    const done = () => {
      changed.close();
      open.delete(changed);
      stopListening.forEach((stop) => stop());
      release();
    };
    let current: Awaited<ReturnType<typeof read>>;
    try {
      current = await read(); // Refusals (401/403/404) are answered as JSON before the stream opens.
      // Counted against the user whose tasks are watched (the read above proved the caller may watch them).
      release = slots.take(request.params.user_id); // over a cap: 429, before the stream opens; shutting down: 503
    } catch (error) {
      done();
      throw error;
    }
    open.add(changed);

    reply.hijack();
    // The client went away: its slot is free at once, and the wait below ends.
    reply.raw.on('close', done);
    if (request.raw.socket.destroyed) done(); // it went away while the task was being read
    try {
      reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      const send = (event: string, data: unknown) => reply.raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      send('task', current);
      const deadline = Date.now() + MAX_STREAM_MS;
      while (!changed.isClosed && current.status !== 'completed' && current.status !== 'failed' && Date.now() < deadline) {
        if (!(await changed.wait(Math.min(heartbeatEvery, deadline - Date.now())))) {
          if (!changed.isClosed) reply.raw.write(': keep-alive\n\n');
          continue;
        }
        if (credentialsChanged) {
          credentialsChanged = false;
          const renewed = await createContext(services, request.headers.authorization, request.ip).catch(() => null);
          if (!renewed || !callerUser(renewed.caller)) break;
          context = renewed;
        }
        // A refused read (the session ended, the key was reset) ends the stream.
        const next = await read().catch(() => null);
        if (!next) break;
        if (next.status !== current.status || next.updated_at !== current.updated_at) send('task', next);
        current = next;
      }
      // This instance is stopping: the client reconnects (to another instance) after `retry` ms.
      if (shutdown.aborted && !request.raw.socket.destroyed) reply.raw.write(`retry: ${STREAM_RETRY_AFTER_SECONDS * 1000}\nevent: shutdown\ndata: ${JSON.stringify({ reconnect: true })}\n\n`);
    } finally {
      done();
      reply.raw.end();
    }
  });

  return { close: closeAll };
}
