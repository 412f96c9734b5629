import { MaxLength } from 'class-validator';
import { Field, InputType, ObjectType } from 'type-graphql';
import { Task } from './task.entity';

@InputType({ description: 'A file to analyse, sent inline.' })
export class AnalysisFileInput {
  @Field({ description: 'The file name, with its extension.' }) @MaxLength(255) name!: string;
  @Field({ description: 'The file content, base64-encoded.' }) contentBase64!: string;
}

@InputType()
export class AnalysisInput {
  @Field({ defaultValue: '', description: 'What to check: a claim, a question, context for the files.' }) prompt!: string;
  @Field(() => [AnalysisFileInput], { defaultValue: [], description: 'Up to five files.' }) files!: AnalysisFileInput[];
}

@ObjectType({ description: 'The file extensions accepted in one category.' })
export class AttachmentCategoryType {
  @Field({ description: 'image, audio/video or document/text' }) category!: string;
  @Field(() => [String]) extensions!: string[];
}

@ObjectType({ description: 'A page of tasks, newest first.' })
export class TaskPageType {
  @Field(() => [Task]) tasks!: Task[];
  @Field() hasNextPage!: boolean;
}
