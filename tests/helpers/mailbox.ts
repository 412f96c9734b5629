import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail { to: string; subject: string; text: string }

/** A real SMTP server: the service sends through nodemailer, tests read what arrived. */
export class Mailbox {
  readonly received: ReceivedMail[] = [];
  private waiters: (() => void)[] = [];
  private server!: SMTPServer;
  port = 0;

  /** Starts the server; after `close()`, starts it again on the same port (an SMTP outage that ends). */
  async start(): Promise<this> {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData: (stream, _session, callback) => {
        simpleParser(stream)
          .then((mail) => {
            const to = Array.isArray(mail.to) ? mail.to[0] : mail.to;
            this.received.push({ to: to?.value[0]?.address ?? '', subject: mail.subject ?? '', text: mail.text ?? '' });
            this.waiters.splice(0).forEach((wake) => wake());
            callback();
          })
          .catch(callback);
      },
    });
    await new Promise<void>((resolve) => this.server.listen(this.port, '127.0.0.1', () => resolve()));
    this.port = (this.server.server.address() as { port: number }).port;
    return this;
  }

  /** Waits for the next mail to `to` received after `after` mails, and returns its six-digit code. */
  async nextCode(to: string, after = this.countTo(to)): Promise<string> {
    const mail = await this.nextMail(to, after);
    const code = /\b(\d{6})\b/.exec(mail.text)?.[1];
    if (!code) throw new Error(`no code in mail: ${mail.text}`);
    return code;
  }

  /** Waits for the next mail to `to` received after `after` mails. */
  async nextMail(to: string, after = this.countTo(to)): Promise<ReceivedMail> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const mail = this.received.filter((m) => m.to === to.toLowerCase())[after];
      if (mail) return mail;
      if (Date.now() > deadline) throw new Error(`no mail to ${to} arrived`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  get listening(): boolean {
    return this.server?.server.listening ?? false;
  }

  countTo(to: string): number {
    return this.received.filter((m) => m.to === to.toLowerCase()).length;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
