import Fastify from 'fastify';
import { Pool } from 'pg';

/**
 * The practical limit of this machine for "read one user": the same framework and a primary-key lookup
 * with the pg driver, and nothing else (no ORM, no GraphQL, no auth).
 */
async function main(): Promise<void> {
  const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DATABASE_POOL_MAX ?? 10) });
  const app = Fastify({ logger: false });
  app.get<{ Params: { id: string } }>('/users/:id', async (request, reply) => {
    const { rows } = await pool.query('select id, email, first_name, last_name, credits, is_active, is_dark_mode, created_at, updated_at from users where id = $1', [request.params.id]);
    if (!rows[0]) return reply.code(404).send({ data: null, message: 'not found', status: 'error' });
    return { data: rows[0], message: 'ok', status: 'success' };
  });
  await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
  process.stdout.write('ready\n');
}

void main();
