import 'reflect-metadata';
import { buildExecutableSchema, SCHEMA_FILE } from './schema';

/** Rewrites schema/schema.graphql from the resolvers (`npm run schema:emit`). */
buildExecutableSchema({ emitSchemaFile: true })
  .then(() => console.log(`wrote ${SCHEMA_FILE}`))
  .catch((error) => {
    console.error(error);
    process.exit(1);
  });
