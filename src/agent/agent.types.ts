import { MaxLength, ValidateNested } from 'class-validator';
import { ArgsType, Field, ID, InputType, ObjectType } from 'type-graphql';
import { OWN_ACCOUNT } from '../accounts/accounts.types';
import { Connection, ConnectionArgs } from '../graphql/pagination';
import { UserError } from '../graphql/user-errors';
import { IdempotencyKeyField } from '../idempotency/idempotency.types';
import { Task, TaskStatusEnum, type TaskStatus } from './task.entity';

@InputType({ description: 'A small file sent inline (the whole request stays under the JSON body limit, 1 MB by default).' })
export class AnalysisFileInput {
  @Field({ description: 'The file name, with its extension.' }) @MaxLength(255) name!: string;
  @Field({ description: 'The file content, base64-encoded.' }) contentBase64!: string;
}

@InputType()
export class StartAnalysisInput {
  @Field(() => ID, OWN_ACCOUNT) userId?: string | null;
  @Field({ defaultValue: '', description: 'What to check: a claim, a question, context for the files.' }) prompt!: string;
  // class-validator checks a nested input's own rules (a file's name) only when told to; type-graphql has
  // already made each file an AnalysisFileInput, so no @Type is needed.
  @Field(() => [AnalysisFileInput], { defaultValue: [], description: 'Small files inline, base64 (up to five files in all).' }) @ValidateNested()
  files!: AnalysisFileInput[];
  @Field(() => [ID], { defaultValue: [], description: 'Files uploaded before with POST /api/v1/uploads: your own, each used by one task only (up to five files in all).' })
  uploadIds!: string[];
  @IdempotencyKeyField() idempotencyKey?: string | null;
}

@ObjectType()
export class StartAnalysisPayload {
  @Field(() => Task, { nullable: true, description: 'The queued task; follow it with `viewer.task(id:)` or `node(id:)`.' }) task?: Task;
  @Field(() => [UserError]) userErrors!: UserError[];
}

@ObjectType({ description: 'The file extensions accepted in one category.' })
export class AttachmentCategoryType {
  @Field({ description: 'image, audio/video or document/text' }) category!: string;
  @Field(() => [String]) extensions!: string[];
}

export const TaskConnection = Connection(Task, 'Task');

@ArgsType()
export class TasksArgs extends ConnectionArgs {
  @Field(() => TaskStatusEnum, { nullable: true, description: 'Only tasks in this status.' }) status?: TaskStatus | null;
}
