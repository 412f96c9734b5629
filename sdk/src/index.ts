export { ClaraClient, type ClaraClientOptions, type Upload, type UploadFile } from './client';
export { ClaraError, type ClaraErrorCode, type ClaraUserError, type GraphQLServerCode, type ServerErrorCode } from './errors';
export type { ClaraOperation, RunOperation, SubscribeOperation, SubscriptionHandlers } from './operation';
export * from './generated/operations';
