import { Reference, ReferenceKind, Utils, wrap } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * A mutation's answer as JSON, to replay later as the same answer: plain values as they are, a Date tagged, and an
 * entity as its class name and its own columns as they were (hidden ones, e.g. password hashes, left out; a
 * relation as the related row's id). Replayed, the entity is rebuilt unmanaged (never written), so the fields
 * resolved from it read as they did the first time.
 */
export function snapshotAnswer(em: EntityManager, value: unknown): unknown {
  if (value instanceof Date) return { $date: value.toISOString() };
  if (Array.isArray(value)) return value.map((item) => snapshotAnswer(em, item));
  if (value === null || typeof value !== 'object') return value;
  if (Utils.isEntity(value)) return snapshotEntity(em, value);
  return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, snapshotAnswer(em, field)]));
}

export function restoreAnswer(em: EntityManager, value: unknown): unknown {
  if (Array.isArray(value)) return value.map((item) => restoreAnswer(em, item));
  if (value === null || typeof value !== 'object') return value;
  const tagged = value as { $date?: string; $entity?: string; $columns?: Record<string, unknown> };
  if (typeof tagged.$date === 'string') return new Date(tagged.$date);
  const restored = Object.fromEntries(Object.entries(tagged.$columns ?? value).map(([key, field]) => [key, restoreAnswer(em, field)]));
  return tagged.$entity ? em.create(tagged.$entity, restored, { persist: false }) : restored;
}

function snapshotEntity(em: EntityManager, entity: object): unknown {
  const meta = em.getMetadata().get(entity.constructor.name);
  const columns: Record<string, unknown> = {};
  for (const prop of meta.props) {
    if (prop.hidden || prop.persist === false) continue;
    const field = (entity as Record<string, unknown>)[prop.name];
    if (prop.kind === ReferenceKind.SCALAR || prop.kind === ReferenceKind.EMBEDDED) columns[prop.name] = snapshotAnswer(em, field);
    else if ((prop.kind === ReferenceKind.MANY_TO_ONE || (prop.kind === ReferenceKind.ONE_TO_ONE && prop.owner)) && field) {
      columns[prop.name] = wrap(Reference.unwrapReference(field as object), true).getPrimaryKey();
    }
  }
  return { $entity: meta.className, $columns: columns };
}
