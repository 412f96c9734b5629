import pino, { type DestinationStream, type Logger } from 'pino';
import { currentRequestId } from '../observability/request-context';

/** Never logged: credentials, codes and tokens, wherever they appear. */
const REDACT = ['req.headers.authorization', 'req.headers.cookie', 'req.headers["stripe-signature"]', 'password', '*.password', 'code', '*.code', 'token', '*.token'];

/** Loggers that already carry `requestId` in their bindings (Fastify's per-request child): the mixin skips them. */
export const BOUND_TO_REQUEST = Symbol('bound to a request');

/**
 * The service's logger. Every line written while a request or a job runs carries its `requestId`, whichever
 * logger wrote it (a domain service's included), so one id finds all of a request's lines.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    redact: REDACT,
    mixin(_object: object, _level: number, logger: Logger) {
      if ((logger as Logger & { [BOUND_TO_REQUEST]?: boolean })[BOUND_TO_REQUEST]) return {};
      const requestId = currentRequestId();
      return requestId ? { requestId } : {};
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
