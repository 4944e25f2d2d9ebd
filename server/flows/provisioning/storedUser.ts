/** A stored SCIM User record as the SCIM model's `Stored<ScimUser>`. */
import type { ScimUserRecord } from '../../domain/provisioning.js';
import { isJsonObject } from '../../scim/canonicalise.js';
import { type ScimUser, type Stored, userFromJson } from '../../scim/model.js';

export function parseStoredUser(resource: string): ScimUser {
  const json: unknown = JSON.parse(resource);
  if (!isJsonObject(json)) throw new TypeError('store: a SCIM User resource is not a JSON object');
  return userFromJson(json);
}

export function storedUserOf(r: ScimUserRecord): Stored<ScimUser> {
  return { id: r.id, version: r.version, created: r.createdAt, lastModified: r.lastModified, resource: parseStoredUser(r.resource) };
}
