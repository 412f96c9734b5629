import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root, Subscription, UseMiddleware } from 'type-graphql';
import { User } from '../accounts/user.entity';
import { callerUser } from '../auth/caller';
import { badRequest } from '../core/errors';
import { Transaction } from '../credits/transaction.entity';
import type { Context } from '../graphql/context';
import { toConnection } from '../graphql/pagination';
import { ReturnsUserErrors } from '../graphql/user-errors';
import { Idempotent } from '../idempotency/idempotency.middleware';
import { AttachmentCategoryType, StartAnalysisInput, StartAnalysisPayload, TaskConnection, TasksArgs } from './agent.types';
import { AnalysisReport, toReport } from './report.types';
import { SUPPORTED_ATTACHMENTS } from './supported-attachments';
import { followTask } from './task-progress';
import { Task } from './task.entity';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** GraphQL adapter over TasksService; rules in graphql/permissions.ts. */
@Resolver()
export class AgentResolver {
  @Query(() => [AttachmentCategoryType], { description: 'The file types an analysis accepts, by category.' })
  supportedAttachments(): AttachmentCategoryType[] {
    return Object.entries(SUPPORTED_ATTACHMENTS).map(([category, extensions]) => ({ category, extensions: [...extensions] }));
  }

  @Mutation(() => StartAnalysisPayload, { description: 'Start an analysis of up to five files (inline or uploaded) and a prompt; costs credits, runs in the background.' })
  @UseMiddleware(ReturnsUserErrors, Idempotent)
  async startAnalysis(@Arg('input') input: StartAnalysisInput, @Ctx() ctx: Context): Promise<StartAnalysisPayload> {
    const files = input.files.map((file, index) => {
      if (!BASE64.test(file.contentBase64)) throw badRequest(`${file.name} is not valid base64.`, ['input', 'files', String(index), 'contentBase64']);
      return { fileName: file.name, bytes: new Uint8Array(Buffer.from(file.contentBase64, 'base64')) };
    });
    return { task: await ctx.services.tasks.start(ctx.em, callerUser(ctx.caller)!, { prompt: input.prompt, files, uploadIds: input.uploadIds }), userErrors: [] };
  }

  @Subscription(() => Task, {
    description: 'One of your tasks as it progresses: its current state at once, then each change (QUEUED → RUNNING → COMPLETED with the report, or FAILED); completes after the final state. Someone else\'s task id is NOT_FOUND.',
    subscribe: ({ args, context }: { args: { id: string }; context: Context }) =>
      followTask(context.services.events, context.services.tasks, context.em, callerUser(context.caller)!.id, args.id),
  })
  taskUpdated(@Root() task: Task, @Arg('id', () => ID) _id: string): Task {
    return task;
  }
}

/** The tasks as seen from their owner. */
@Resolver(() => User)
export class UserTasksResolver {
  @FieldResolver(() => TaskConnection, { description: 'Your analysis tasks, newest first.' })
  async tasks(@Root() user: User, @Args() args: TasksArgs, @Ctx() ctx: Context) {
    const page = await ctx.services.tasks.page(ctx.readOnlyEm, user.id, args);
    return toConnection(page, () => ctx.services.tasks.count(ctx.readOnlyEm, user.id, args.status));
  }

  @FieldResolver(() => Task, { nullable: true, description: 'One of your tasks; null when there is none with this id.' })
  task(@Root() user: User, @Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<Task | null> {
    return ctx.services.tasks.find(ctx.em, user.id, id);
  }
}

@Resolver(() => Task)
export class TaskResolver {
  @FieldResolver(() => AnalysisReport, { nullable: true, description: 'The typed analysis report, once the task is completed.' })
  report(@Root() task: Task): AnalysisReport | null {
    return task.result ? toReport(task.result) : null;
  }

  @FieldResolver(() => Transaction, { nullable: true, description: 'The ledger row of the charge.' })
  charge(@Root() task: Task, @Ctx() ctx: Context): Promise<Transaction | null> | null {
    return task.chargeTransactionId ? ctx.loaders.transaction(task.chargeTransactionId, task.userId) : null;
  }

  @FieldResolver(() => Transaction, { nullable: true, description: 'The ledger row of the refund, if the task failed.' })
  refund(@Root() task: Task, @Ctx() ctx: Context): Promise<Transaction | null> | null {
    return task.refundTransactionId ? ctx.loaders.transaction(task.refundTransactionId, task.userId) : null;
  }
}
