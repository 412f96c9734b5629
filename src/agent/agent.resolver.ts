import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import { callerUser } from '../auth/caller';
import { badRequest } from '../core/errors';
import type { Context } from '../graphql/context';
import { AnalysisInput, AttachmentCategoryType, TaskPageType } from './agent.types';
import { SUPPORTED_ATTACHMENTS } from './supported-attachments';
import { Task, TaskStatusEnum, type TaskStatus } from './task.entity';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** GraphQL adapter over TasksService; rules in graphql/permissions.ts. */
@Resolver()
export class AgentResolver {
  @Query(() => [AttachmentCategoryType], { description: 'The file types an analysis accepts, by category.' })
  supportedAttachments(@Arg('userId', () => ID) _userId: string): AttachmentCategoryType[] {
    return Object.entries(SUPPORTED_ATTACHMENTS).map(([category, extensions]) => ({ category, extensions: [...extensions] }));
  }

  @Mutation(() => Task, { description: 'Start an analysis of up to five files and a prompt; costs credits, runs in the background.' })
  startAnalysis(@Arg('userId', () => ID) _userId: string, @Arg('input') input: AnalysisInput, @Ctx() ctx: Context): Promise<Task> {
    const files = input.files.map((file) => {
      if (!BASE64.test(file.contentBase64)) throw badRequest(`${file.name} is not valid base64.`);
      return { fileName: file.name, bytes: new Uint8Array(Buffer.from(file.contentBase64, 'base64')) };
    });
    return ctx.services.tasks.start(ctx.em, callerUser(ctx.caller)!, { prompt: input.prompt, files });
  }

  @Query(() => TaskPageType, { description: 'Your tasks, newest first.' })
  tasks(
    @Arg('userId', () => ID) userId: string,
    @Arg('limit', () => Int, { nullable: true, description: '1 to 100 (default 20).' }) limit: number | null,
    @Arg('offset', () => Int, { nullable: true }) offset: number | null,
    @Arg('status', () => TaskStatusEnum, { nullable: true }) status: TaskStatus | null,
    @Ctx() ctx: Context,
  ): Promise<TaskPageType> {
    return ctx.services.tasks.list(ctx.em, userId, { limit, offset, status });
  }

  @Query(() => Task, { description: 'One of your tasks.' })
  task(@Arg('userId', () => ID) userId: string, @Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<Task> {
    return ctx.services.tasks.get(ctx.em, userId, id);
  }
}
