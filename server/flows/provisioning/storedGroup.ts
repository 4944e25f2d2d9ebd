/** A stored SCIM Group record as the SCIM model's `Stored<ScimGroup>`. */
import type { ScimGroupRecord } from '../../domain/provisioning.js';
import { isJsonObject } from '../../scim/canonicalise.js';
import { type ScimGroup, type Stored, groupFromJson } from '../../scim/model.js';

export function parseStoredGroup(resource: string): ScimGroup {
  const json: unknown = JSON.parse(resource);
  if (!isJsonObject(json)) throw new TypeError('store: a SCIM Group resource is not a JSON object');
  return groupFromJson(json);
}

export function storedGroupOf(r: ScimGroupRecord): Stored<ScimGroup> {
  return { id: r.id, version: r.version, created: r.createdAt, lastModified: r.lastModified, resource: parseStoredGroup(r.resource) };
}
