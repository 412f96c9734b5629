import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from 'pino';

export interface Mail { to: string; subject: string; text: string }

/**
 * Sends mail over SMTP when SMTP_URL is set. Without it (a developer's machine) each mail is written to
 * the outbox folder and announced in the log, clearly marked, so the OTP can be read there.
 */
export class Mailer {
  private readonly transport: Transporter;

  constructor(
    private readonly options: { smtpUrl?: string; from: string; outboxDir: string },
    private readonly log: Logger,
  ) {
    this.transport = options.smtpUrl
      ? nodemailer.createTransport(options.smtpUrl)
      : nodemailer.createTransport({ jsonTransport: true });
  }

  async send(mail: Mail): Promise<void> {
    const info = await this.transport.sendMail({ from: this.options.from, ...mail });
    if (this.options.smtpUrl) return;
    await mkdir(this.options.outboxDir, { recursive: true });
    const file = join(this.options.outboxDir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${info.messageId.replace(/[<>@]/g, '')}.txt`);
    await writeFile(file, `To: ${mail.to}\nSubject: ${mail.subject}\n\n${mail.text}\n`, { mode: 0o600 });
    this.log.warn({ outbox: file, to: mail.to, subject: mail.subject }, 'DEV OUTBOX (no SMTP_URL set): mail written to a local file, not sent');
  }

  close(): void {
    this.transport.close();
  }
}
