import pino, { type Logger } from 'pino';

/** Never logged: credentials, codes and tokens, wherever they appear. */
const REDACT = ['req.headers.authorization', 'req.headers.cookie', 'req.headers["stripe-signature"]', 'password', '*.password', 'code', '*.code', 'token', '*.token'];

export function createLogger(level: string): Logger {
  return pino({ level, redact: REDACT });
}
