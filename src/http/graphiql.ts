import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';

/** GraphiQL served from the installed packages (no CDN), at /graphiql. */
const ASSETS: Record<string, { module: string; type: string }> = {
  'react.js': { module: 'react/umd/react.production.min.js', type: 'text/javascript' },
  'react-dom.js': { module: 'react-dom/umd/react-dom.production.min.js', type: 'text/javascript' },
  'graphiql.js': { module: 'graphiql/graphiql.min.js', type: 'text/javascript' },
  'graphiql.css': { module: 'graphiql/graphiql.min.css', type: 'text/css' },
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <title>Clara GraphQL explorer</title>
  <link rel="stylesheet" href="/graphiql/graphiql.css" />
  <style>body { margin: 0; height: 100vh; } #graphiql { height: 100vh; }</style>
</head>
<body>
  <div id="graphiql">Loading…</div>
  <script src="/graphiql/react.js"></script>
  <script src="/graphiql/react-dom.js"></script>
  <script src="/graphiql/graphiql.js"></script>
  <script src="/graphiql/start.js"></script>
</body>
</html>`;

const START = `const fetcher = GraphiQL.createFetcher({ url: '/graphql' });
ReactDOM.createRoot(document.getElementById('graphiql')).render(
  React.createElement(GraphiQL, {
    fetcher,
    defaultEditorToolsVisibility: true,
    defaultHeaders: JSON.stringify({ Authorization: 'Bearer <your clara_user_ token>' }, null, 2),
  }),
);`;

export function registerGraphiQL(http: FastifyInstance): void {
  // A strict policy for this page only: everything it loads comes from this server.
  const csp = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; font-src 'self' data:";
  http.get('/graphiql', (_request, reply) => reply.header('content-security-policy', csp).type('text/html').send(PAGE));
  http.get('/graphiql/start.js', (_request, reply) => reply.type('text/javascript').send(START));
  for (const [name, asset] of Object.entries(ASSETS)) {
    let body: Buffer | undefined;
    http.get(`/graphiql/${name}`, (_request, reply) => {
      // Read from node_modules directly: these packages' `exports` do not list their UMD builds.
      body ??= readFileSync(join(__dirname, '..', '..', '..', 'node_modules', asset.module));
      return reply.type(asset.type).header('cache-control', 'public, max-age=86400').send(body);
    });
  }
}
