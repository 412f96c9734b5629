import { Client } from 'pg';
import type { Logger } from 'pino';
import type { TaskStatus } from '../agent/task.entity';
import { EVENTS_CHANNEL, onPoolNotification } from './notifications';

/**
 * What the database announces when a row changes (triggers, so every writer is covered — API instances,
 * workers, the admin CLI — and only committed changes are heard: NOTIFY is delivered at commit).
 * Events carry ids, not data: a listener reads the current state through the usual rules.
 */
export type ClaraEvent =
  | { topic: 'task'; userId: string; taskId: string; status: TaskStatus }
  | { topic: 'balance'; userId: string; credits: number }
  /** A session, the API key or the account changed: credentials of this user must be checked again. */
  | { topic: 'caller'; userId: string }
  /**
   * The bus lost its connection and is back: events in between may be lost, so every listener should
   * read the state it follows again.
   */
  | { topic: 'resync' };

export type EventTopic = ClaraEvent['topic'];
type Handler<T extends EventTopic> = (event: Extract<ClaraEvent, { topic: T }>) => void;

const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5_000;

/**
 * Change events of one database for this process, through PostgreSQL LISTEN/NOTIFY: one dedicated
 * connection LISTENs (reconnecting with backoff; a `resync` event follows each reconnection), and the
 * pool's connections are heard too (that is where the embedded database delivers, see notifications.ts).
 * Every process on the database — API instances and workers — hears every change.
 */
export class EventBus {
  private readonly byKey = new Map<string, Set<(event: ClaraEvent) => void>>();
  private client?: Client;
  private stopPoolRelay?: () => void;
  private closed = false;
  private reconnectDelay = RECONNECT_MIN_MS;
  private reconnectTimer?: NodeJS.Timeout;

  constructor(private readonly options: { databaseUrl: string; log: Logger }) {}

  async start(): Promise<void> {
    this.stopPoolRelay = onPoolNotification(this.options.databaseUrl, (payload) => this.dispatch(payload));
    await this.connect();
  }

  /** Events of one topic, for one user or (userId omitted) for everyone; answers the unsubscribe function. */
  on<T extends EventTopic>(topic: T, handler: Handler<T>, userId?: string): () => void {
    const key = userId === undefined ? topic : `${topic}:${userId}`;
    let handlers = this.byKey.get(key);
    if (!handlers) this.byKey.set(key, (handlers = new Set()));
    const wrapped = handler as (event: ClaraEvent) => void;
    handlers.add(wrapped);
    return () => {
      handlers.delete(wrapped);
      if (!handlers.size) this.byKey.delete(key);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.stopPoolRelay?.();
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new Client({ connectionString: this.options.databaseUrl });
    client.on('notification', (message) => {
      if (message.channel === EVENTS_CHANNEL && message.payload !== undefined) this.dispatch(message.payload);
    });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client));
    await client.connect();
    await client.query(`LISTEN ${EVENTS_CHANNEL}`);
    this.client = client;
    this.reconnectDelay = RECONNECT_MIN_MS;
  }

  private lost(client: Client, error?: Error): void {
    if (this.closed || this.client !== client) return;
    this.client = undefined;
    client.end().catch(() => undefined);
    this.options.log.warn({ err: error }, 'event bus: lost the LISTEN connection; reconnecting');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const delay = this.reconnectDelay;
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, RECONNECT_MAX_MS);
    this.reconnectTimer = setTimeout(() => {
      this.connect().then(
        () => {
          this.options.log.info('event bus: listening again');
          this.emit({ topic: 'resync' });
        },
        (error: Error) => {
          if (this.closed) return;
          this.options.log.warn({ err: error }, 'event bus: reconnect failed');
          this.scheduleReconnect();
        },
      );
    }, delay);
    this.reconnectTimer.unref();
  }

  private dispatch(payload: string): void {
    let event: ClaraEvent;
    try {
      event = JSON.parse(payload) as ClaraEvent;
    } catch {
      return; // not ours
    }
    this.emit(event);
  }

  private emit(event: ClaraEvent): void {
    const keys = 'userId' in event ? [event.topic, `${event.topic}:${event.userId}`] : [event.topic];
    for (const key of keys) {
      for (const handler of this.byKey.get(key) ?? []) {
        try {
          handler(event);
        } catch (error) {
          this.options.log.error({ err: error, topic: event.topic }, 'event bus: a listener failed');
        }
      }
    }
  }
}
