import { ReferenceKind, type EntityClass, type EntityProperty } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * Reads an entity's rows into unmanaged instances of its class, for read-only lists: no query building, no
 * hydration into the identity map, no change-tracking snapshot (those cost many times the query). The
 * ORM's metadata gives the columns and their properties, once per entity. An instance of the class, so
 * getters (`userId`) and type-graphql's type checks work; a many-to-one is `{ id }` (the pages only read ids).
 */
export interface PlainRowReader<T> {
  table: string;
  /** The select list, e.g. `"id", "user_id", "created_at"`. */
  columns: string;
  read(row: Record<string, unknown>): T;
}

const readers = new WeakMap<EntityClass<unknown>, PlainRowReader<unknown>>();

export function plainRowReader<T extends object>(em: EntityManager, entity: EntityClass<T>): PlainRowReader<T> {
  let reader = readers.get(entity) as PlainRowReader<T> | undefined;
  if (!reader) readers.set(entity, (reader = buildReader(em, entity)));
  return reader;
}

function buildReader<T extends object>(em: EntityManager, entity: EntityClass<T>): PlainRowReader<T> {
  const meta = em.getMetadata().get<T>(entity.name);
  const fields = (meta.props as EntityProperty<T>[])
    .filter((prop) => prop.persist !== false && !prop.formula && (prop.kind === ReferenceKind.SCALAR || prop.kind === ReferenceKind.MANY_TO_ONE))
    .map((prop) => ({ name: prop.name as string, column: prop.fieldNames[0], convert: converterOf(prop) }));
  // The ORM puts a setter for each property on the entity's prototype, which on first use turns the field
  // into an accessor over a per-instance helper (its change tracking). A plain data property of the same
  // name on a prototype in between shadows those setters: assignments then create ordinary fields.
  const prototype = Object.create(entity.prototype as object) as object;
  for (const field of fields) Object.defineProperty(prototype, field.name, { value: undefined, writable: true, enumerable: false, configurable: true });
  return {
    table: meta.tableName,
    columns: fields.map((field) => `"${field.column}"`).join(', '),
    read(row) {
      const item = Object.create(prototype) as Record<string, unknown>;
      for (const field of fields) item[field.name] = field.convert(row[field.column]);
      return item as T;
    },
  };
}

function converterOf(prop: EntityProperty): (value: unknown) => unknown {
  if (prop.kind === ReferenceKind.MANY_TO_ONE) return (value) => (value == null ? null : { id: value });
  // The ORM's pool reads timestamps as text (its own conversion does what this does); JSON arrives parsed.
  if (prop.runtimeType === 'Date') return (value) => (value == null ? null : new Date(value as string));
  return (value) => value;
}
