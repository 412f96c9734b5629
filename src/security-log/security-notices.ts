import type { Logger } from 'pino';
import type { Mailer } from '../mail/mailer';
import type { RequestOrigin } from './request-origin';

/** The sensitive changes the account's owner is told about by email, whoever made them. */
export type SecurityNotice = 'PASSWORD_CHANGED' | 'TWO_FACTOR_DISABLED' | 'API_KEY_RESET' | 'GOOGLE_LINKED';

const WHAT_HAPPENED: Record<SecurityNotice, { subject: string; text: string }> = {
  PASSWORD_CHANGED: { subject: 'Your password was changed', text: 'The password of your account was changed. Your other sessions were signed out.' },
  TWO_FACTOR_DISABLED: { subject: 'Two-factor authentication was turned off', text: 'Two-factor authentication was turned off for your account. Signing in now needs only your password.' },
  API_KEY_RESET: { subject: 'A new API key was created', text: 'A new API key was created for your account; the previous key no longer works.' },
  GOOGLE_LINKED: { subject: 'Google sign-in was linked to your account', text: 'A Google account was linked to your account and can now be used to sign in.' },
};

/**
 * Mails sent after a change is committed. A failed mail does not undo or fail the change (it has
 * happened); it is logged without the address.
 */
export class SecurityNotices {
  constructor(private readonly deps: { mailer: Mailer; serviceName: string; log: Logger }) {}

  async send(user: { email: string; firstName: string }, notice: SecurityNotice, origin?: RequestOrigin): Promise<void> {
    const { subject, text } = WHAT_HAPPENED[notice];
    // The IP only: a user agent is whatever the client sent, and has no place in a mail meant to be trusted.
    const where = origin?.ip ? `\nFrom IP address: ${origin.ip}` : '';
    const body = `Hello ${user.firstName},\n\n${text}\n\nWhen: ${new Date().toUTCString()}${where}\n\nIf this was not you, reset your password now and review your sessions and security log.`;
    await this.deps.mailer.send({ to: user.email, subject: `${this.deps.serviceName}: ${subject}`, text: body }).catch((error: unknown) => {
      this.deps.log.error({ err: error, notice }, 'sending a security notice failed');
    });
  }
}
