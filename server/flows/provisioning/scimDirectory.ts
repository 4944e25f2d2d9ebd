/**
 * The SCIM Users of the organisation's directory over the store (issue 18): the port
 * server/scim/ports.ts asks for, implemented through the same flows and lifecycle as the consoles.
 * Each write is ONE transaction holding the compare-and-set on the resource's version (the ETag,
 * RFC 7644 §3.14), the person's change with its effects and its audit events: nothing is half
 * applied. What the directory sends is mapped to identity fields (NSIS 3.1: the assurance the
 * organisation declared for the client) before anything is written.
 */
import { randomUUID } from 'node:crypto';
import type { ScimUserRecord } from '../../domain/provisioning.js';
import type { Language } from '../../../i18n/index.js';
import type { Actor, Identity } from '../../domain/types.js';
import { StoreConflict, type ReadTx, type WriteTx } from '../../ports/store.js';
import { lookupKeys, matchesFilter } from '../../scim/evaluateFilter.js';
import { identityChange, identityFieldsOf } from '../../scim/mapping.js';
import { type ScimUser, type Stored, userToJson } from '../../scim/model.js';
import type { DeleteResult, ListQuery, ListResult, ScimPrincipal, ScimUserDirectory, WriteResult } from '../../scim/ports.js';
import type { CoreDeps } from '../deps.js';
import { endBindingIn } from '../identities/endBinding.js';
import { createIdentityIn } from '../identities/createIdentity.js';
import { setLanguageIn } from '../identities/setLanguage.js';
import { kickAfterCommit, recordEvent } from '../shared/audit.js';
import { SubjectNameIdError } from '../../idm/subjectNameId.js';
import { ScimError } from '../../scim/errors.js';
import { applyDirectoryChange } from './scimEffects.js';
import { parseStoredUser, storedUserOf } from './storedUser.js';

/** The directory acting: an actor of its own kind (lifecycle and duties tables: `provisioning`). */
export const PROVISIONING_ACTOR: Actor = Object.freeze({ identityId: null, role: 'provisioning' });

/** Thrown inside a write to roll it back and answer with a result kind. */
class Outcome extends Error {
  constructor(readonly result: WriteResult<ScimUser>) {
    super(result.kind);
  }
}

async function clash(tx: ReadTx, organisationId: string, user: ScimUser, exceptId: string | null): Promise<string | null> {
  if ((await tx.scimUsers.find(organisationId, { userNameKey: user.userName.toLowerCase() })).some((r) => r.id !== exceptId)) return 'userName';
  if (user.externalId !== null && (await tx.scimUsers.find(organisationId, { externalId: user.externalId })).some((r) => r.id !== exceptId)) return 'externalId';
  return null;
}

async function settle(write: Promise<WriteResult<ScimUser>>): Promise<WriteResult<ScimUser>> {
  try {
    return await write;
  } catch (err) {
    if (err instanceof Outcome) return err.result;
    // The configured rule gives this person no subject name id (issue 18): nothing was written.
    if (err instanceof SubjectNameIdError) throw ScimError.of('invalidValue', `No subject name id for MitID Erhverv: ${err.message}.`);
    // A uniqueness a concurrent request took between our check and our insert (PostgreSQL).
    if (err instanceof StoreConflict) return { kind: 'conflict', attribute: 'userName' };
    throw err;
  }
}

export function scimUserDirectory(deps: CoreDeps): ScimUserDirectory {
  const actor = PROVISIONING_ACTOR;
  return {
    async get(p: ScimPrincipal, id: string): Promise<Stored<ScimUser> | null> {
      const row = await deps.store.read((tx) => tx.scimUsers.get(p.organisationId, id));
      return row ? storedUserOf(row) : null;
    },

    async list(p: ScimPrincipal, q: ListQuery): Promise<ListResult<ScimUser>> {
      const keys = q.filter ? lookupKeys(q.filter) : null;
      const rows = await deps.store.read((tx) =>
        tx.scimUsers.find(p.organisationId, {
          ...(keys?.id !== undefined ? { id: keys.id } : {}),
          ...(keys?.userName !== undefined ? { userNameKey: keys.userName.toLowerCase() } : {}),
          ...(keys?.externalId !== undefined ? { externalId: keys.externalId } : {}),
        }),
      );
      const filter = q.filter;
      const all = rows
        .map(storedUserOf)
        .filter((s) => filter === null || matchesFilter('User', filter, { id: s.id, ...userToJson(s.resource), meta: { created: s.created, lastModified: s.lastModified } }));
      return { totalResults: all.length, resources: all.slice(q.startIndex - 1, q.startIndex - 1 + q.count) };
    },

    async create(p: ScimPrincipal, user: ScimUser): Promise<WriteResult<ScimUser>> {
      const fields = identityFieldsOf(user, p.source); // invalidValue before anything is written
      return settle(
        deps.store.write(async (tx: WriteTx): Promise<WriteResult<ScimUser>> => {
          const attribute = await clash(tx, p.organisationId, user, null);
          if (attribute) return { kind: 'conflict', attribute };
          if (await tx.identities.findActiveByEmail(fields.email)) return { kind: 'conflict', attribute: 'emails' };
          const identity = await createIdentityIn(
            deps,
            tx,
            actor,
            { organisationId: p.organisationId, name: fields.name, email: fields.email, ial: fields.ial, proofingMethod: fields.proofingMethod, roles: [], language: fields.language },
            { givenName: fields.givenName, familyName: fields.familyName, externalId: fields.externalId, userName: fields.userName, employeeNumber: fields.employeeNumber },
          );
          const at = deps.clock.now().toISOString();
          const row: ScimUserRecord = {
            id: randomUUID(),
            organisationId: p.organisationId,
            clientId: p.clientId,
            identityId: identity.id,
            userNameKey: user.userName.toLowerCase(),
            externalId: user.externalId,
            version: 1,
            createdAt: at,
            lastModified: at,
            resource: JSON.stringify(userToJson(user)),
          };
          await tx.scimUsers.insert(row);
          await recordEvent(deps, tx, 'scim.user-created', actor, identity.id, {
            clientId: p.clientId,
            client: p.label,
            scimId: row.id,
            userName: user.userName,
            externalId: user.externalId,
            ial: fields.ial,
            proofingMethod: fields.proofingMethod,
            clause: 'NSIS 3.1.2, 5.2',
          });
          if (!user.active) {
            await applyDirectoryChange(deps, tx, actor, identity, { activity: 'suspend', identifying: false, contact: false, keys: false }, fields, fields, p.clientId);
          }
          kickAfterCommit(deps, tx);
          return { kind: 'ok', stored: storedUserOf(row) };
        }),
      );
    },

    async replace(p: ScimPrincipal, id: string, user: ScimUser, expectedVersion: number): Promise<WriteResult<ScimUser>> {
      const after = identityFieldsOf(user, p.source); // invalidValue before anything is written
      return settle(
        deps.store.write(async (tx: WriteTx): Promise<WriteResult<ScimUser>> => {
          const row = await tx.scimUsers.get(p.organisationId, id);
          if (!row) return { kind: 'not-found' };
          if (row.version !== expectedVersion) return { kind: 'version-mismatch' };
          const attribute = await clash(tx, p.organisationId, user, id);
          if (attribute) return { kind: 'conflict', attribute };
          const before = identityFieldsOf(parseStoredUser(row.resource), p.source);
          const at = deps.clock.now().toISOString();
          const next = { userNameKey: user.userName.toLowerCase(), externalId: user.externalId, resource: JSON.stringify(userToJson(user)), lastModified: at };
          if (!(await tx.scimUsers.replace(id, expectedVersion, next))) throw new Outcome({ kind: 'version-mismatch' });
          const stored = await tx.identities.get(row.identityId);
          // Issue 16: a language the directory names (anew) becomes the person's, before any notice is mailed.
          const identity = stored && after.language !== null && after.language !== before.language ? await withLanguage(deps, tx, actor, stored, after.language) : stored;
          const change = identityChange(before, after);
          // A binding an org-admin ended in the console: the directory's record is kept, nothing else changes.
          const effects = identity && identity.bindingState === 'active' ? await applyDirectoryChange(deps, tx, actor, identity, change, before, after, p.clientId) : null;
          await recordEvent(deps, tx, 'scim.user-replaced', actor, row.identityId, {
            clientId: p.clientId,
            scimId: id,
            version: expectedVersion + 1,
            activity: change.activity,
            identifying: change.identifying,
            contact: change.contact,
            keys: change.keys,
            bindingEnded: effects === null,
          });
          kickAfterCommit(deps, tx);
          return { kind: 'ok', stored: { id, version: expectedVersion + 1, created: row.createdAt, lastModified: at, resource: user } };
        }),
      );
    },

    async delete(p: ScimPrincipal, id: string, expectedVersion: number | null): Promise<DeleteResult> {
      return deps.store.write(async (tx): Promise<DeleteResult> => {
        const row = await tx.scimUsers.get(p.organisationId, id);
        if (!row) return { kind: 'not-found' };
        if (expectedVersion !== null && row.version !== expectedVersion) return { kind: 'version-mismatch' };
        if (!(await tx.scimUsers.remove(id, row.version))) return { kind: 'version-mismatch' };
        const identity = await tx.identities.get(row.identityId);
        // NSIS 5.2 (Low) 3: deleting the person ends the binding; every key is revoked.
        const ended = identity && identity.bindingState === 'active' ? await endBindingIn(deps, tx, actor, identity, 'employment-ended', `deleted by the organisation’s directory (${p.label})`) : null;
        await recordEvent(deps, tx, 'scim.user-deleted', actor, row.identityId, { clientId: p.clientId, scimId: id, revokedKeys: ended?.revokedKeys ?? 0, clause: 'NSIS 5.2 (Low) 3' });
        kickAfterCommit(deps, tx);
        return { kind: 'deleted' };
      });
    },
  };
}

/** The person with `language` stored (setLanguage.ts: audited; unchanged when already theirs or not bound). */
async function withLanguage(deps: CoreDeps, tx: WriteTx, actor: Actor, person: Identity, language: Language): Promise<Identity> {
  return (await setLanguageIn(deps, tx, actor, person.id, language)) ? { ...person, language } : person;
}
