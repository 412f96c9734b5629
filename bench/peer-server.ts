import { createSecretKey } from 'node:crypto';
import { createServer } from 'node:http';
import Fastify from 'fastify';
import { createYoga, createSchema } from 'graphql-yoga';
import jwt from 'jsonwebtoken';
import mercurius from 'mercurius';
import { Pool } from 'pg';

/*
 * The bench's peers: the same authenticated GraphQL read as Clara's `user` query (verify the user token,
 * check its session, read one row; the session check and the row are one joined query, as in Clara),
 * served by a minimal GraphQL Yoga app or a minimal Mercurius + graphql-jit app over the same database.
 * `node peer-server.js yoga|mercurius`; PORT, DATABASE_URL, DATABASE_POOL_MAX, JWT_SECRET.
 */

const typeDefs = `
  type User { id: ID! email: String! firstName: String! lastName: String credits: Int! isActive: Boolean! isDarkMode: Boolean! createdAt: String! updatedAt: String! }
  type Query { user(id: ID!): User }
`;

interface Row { id: string; email: string; first_name: string; last_name: string | null; credits: number; is_active: boolean; is_dark_mode: boolean; created_at: Date; updated_at: Date }

const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DATABASE_POOL_MAX ?? 10) });
// A KeyObject, as in Clara (src/auth/tokens.ts): with a string jsonwebtoken first tries to parse it as a public key,
// which costs about 0.3 ms per verify and would make the peers look slower than they are.
const secret = createSecretKey(Buffer.from(process.env.JWT_SECRET!));

/** Clara's user token: `Bearer clara_user_<HS256 JWT with sub and sid>`; null unless its session is live. */
async function authenticatedUser(authorization: string | undefined): Promise<Row | null> {
  const token = authorization?.replace(/^Bearer\s+clara_user_/i, '');
  if (!token || token === authorization) return null;
  let claims: jwt.JwtPayload;
  try {
    claims = jwt.verify(token, secret, { algorithms: ['HS256'] }) as jwt.JwtPayload;
  } catch {
    return null;
  }
  const { rows } = await pool.query<Row>(
    `select u.* from sessions s join users u on u.id = s.user_id
      where s.id = $1 and s.user_id = $2 and s.revoked_at is null and s.expires_at > now()`,
    [claims.sid, claims.sub],
  );
  return rows[0] ?? null;
}

const resolvers = {
  Query: {
    user: (_: unknown, args: { id: string }, context: { user: Row | null }) => {
      if (!context.user) throw new Error('Authentication is required.');
      if (context.user.id !== args.id) throw new Error('You can only access your own account.');
      return context.user;
    },
  },
  User: {
    firstName: (u: Row) => u.first_name,
    lastName: (u: Row) => u.last_name,
    isActive: (u: Row) => u.is_active,
    isDarkMode: (u: Row) => u.is_dark_mode,
    createdAt: (u: Row) => u.created_at.toISOString(),
    updatedAt: (u: Row) => u.updated_at.toISOString(),
  },
};

async function main(): Promise<void> {
  const port = Number(process.env.PORT);
  if (process.argv[2] === 'yoga') {
    const yoga = createYoga({
      schema: createSchema({ typeDefs, resolvers }),
      graphiql: false,
      logging: false,
      context: async ({ request }) => ({ user: await authenticatedUser(request.headers.get('authorization') ?? undefined) }),
    });
    await new Promise<void>((resolve) => createServer(yoga).listen(port, '127.0.0.1', resolve));
  } else {
    const app = Fastify({ logger: false });
    await app.register(mercurius, {
      schema: typeDefs,
      resolvers: resolvers as never,
      // Compile a query on its first repeat, as Clara does.
      jit: 1,
      context: async (request) => ({ user: await authenticatedUser(request.headers.authorization) }),
    });
    await app.listen({ host: '127.0.0.1', port });
  }
  process.stdout.write('ready\n');
}

void main();
