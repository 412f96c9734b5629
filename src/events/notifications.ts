/**
 * The one channel on which the database announces changes (see the migration that installs its triggers).
 * NOTIFY is scoped to one database, so services on different databases never hear each other.
 */
export const EVENTS_CHANNEL = 'clara_events';

type Listener = (payload: string) => void;
interface NotifyingConnection { on(event: 'notification', listener: (message: { channel: string; payload?: string }) => void): unknown }

/**
 * Notifications that arrive on the ORM pool's connections, by database URL. A real PostgreSQL sends them
 * only to connections that ran LISTEN (the event bus's own), so on it these never fire. The embedded
 * database is one PGlite session shared by every socket connection: it hands each notification to the
 * connection whose statement raised it, which is a pooled one. Keyed by URL and process-wide, so two
 * service instances in one process (tests) on one embedded database both hear them.
 */
const poolListeners = new Map<string, Set<Listener>>();

/** knex's `pool.afterCreate`: relays the new connection's notifications to the listeners of its database. */
export function relayPoolNotifications(databaseUrl: string) {
  return (connection: NotifyingConnection, done: (error: Error | null, connection: NotifyingConnection) => void) => {
    connection.on('notification', (message) => {
      if (message.channel !== EVENTS_CHANNEL || message.payload === undefined) return;
      for (const listener of poolListeners.get(databaseUrl) ?? []) listener(message.payload);
    });
    done(null, connection);
  };
}

export function onPoolNotification(databaseUrl: string, listener: Listener): () => void {
  let listeners = poolListeners.get(databaseUrl);
  if (!listeners) poolListeners.set(databaseUrl, (listeners = new Set()));
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
    if (!listeners.size) poolListeners.delete(databaseUrl);
  };
}
