import type { EntityManager } from '@mikro-orm/postgresql';
import { notFound } from '../core/errors';
import type { EventBus } from '../events/event-bus';
import { followLatest } from '../events/latest-state';
import type { Task } from './task.entity';
import { FINAL, type TasksService } from './tasks.service';

/**
 * One of the user's tasks as it progresses: its current state at once, then after each change the database
 * announces (any process's), ending with its final state. Someone else's task, or none: NOT_FOUND, as the
 * task query answers. `em` is cleared before each read, so every state (and what is read beside it) is fresh.
 */
export async function followTask(events: EventBus, tasks: TasksService, em: EntityManager, userId: string, taskId: string): Promise<AsyncIterableIterator<Task>> {
  const followed = await followLatest<Task>({
    events,
    listen: (changed) => events.on('task', (event) => event.taskId === taskId && changed(), userId),
    read() {
      em.clear();
      return tasks.find(em, userId, taskId);
    },
    same: (previous, next) => previous.status === next.status && previous.updatedAt.getTime() === next.updatedAt.getTime() && previous.error === next.error,
    isFinal: (task) => FINAL.includes(task.status),
  });
  if (!followed) throw notFound('Task not found.');
  return followed;
}
