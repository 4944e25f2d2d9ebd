/**
 * An approval's summary in the reader's language (issue 16), rendered from catalogue words and
 * what the approval stores (its kind and payload) plus the names of the people it is about, looked
 * up when it is read. The stored English `summary` stays the answer for a row whose payload does
 * not have the expected shape or whose people are gone (old rows), or of a kind no longer known.
 * Pure: no I/O.
 */
import { z } from 'zod';
import { reasonLabel, text, type Language } from '../../i18n/index.js';
import type { ApprovalRecord } from '../domain/approvals.js';
import type { ApprovalKind } from '../duties/table.js';
import { roleWords } from '../lifecycle/mails.js';

/** Name and email of the people an approval is about, by identity id. */
export type ApprovalNames = ReadonlyMap<string, { name: string; email: string }>;

const rolesPayload = z.object({ identityId: z.string(), roles: z.array(z.string()).min(1) });
const contactPayload = z.object({ identityId: z.string(), from: z.string(), to: z.string() });
const identityPayload = z.object({ identityId: z.string() });

type Describer = (payload: unknown, names: ApprovalNames, l: Language) => string | null;

const who = (names: ApprovalNames, id: string): string | null => {
  const p = names.get(id);
  return p ? `${p.name} <${p.email}>` : null;
};

const roleList = (l: Language, roles: readonly string[]): string => roles.map((r) => roleWords(l, r)).join(text(l, 'console.listSeparator'));

const bulkPayload = z.object({ action: z.enum(['suspend', 'revoke']), credentialIds: z.array(z.string()).min(1), reason: z.string() });
const keyPayload = z.object({ reason: z.string() });
const samlPayload = z.object({ kid: z.string() });

const keyRequest =
  (key: 'approvals.summary.hsm-key-rotation' | 'approvals.summary.hsm-key-emergency-rotation' | 'approvals.summary.hsm-key-destroy'): Describer =>
  (payload, _names, l) => {
    const p = keyPayload.safeParse(payload);
    return p.success ? text(l, key, { reason: p.data.reason }) : null;
  };

const samlStep =
  (key: 'approvals.summary.saml-key-activation' | 'approvals.summary.saml-key-destroy' | 'approvals.summary.saml-key-discard'): Describer =>
  (payload, _names, l) => {
    const p = samlPayload.safeParse(payload);
    return p.success ? text(l, key, { kid: p.data.kid }) : null;
  };

/**
 * Every kind that can wait for a second person (the duties table's APPROVAL_KINDS) has words here:
 * the type makes a new kind without them fail the typecheck, and test/unit/approval-summaries
 * checks that each renders in every language.
 */
export const DESCRIBERS: Readonly<Record<ApprovalKind, Describer>> = {
  'contact-change': (payload, names, l) => {
    const p = contactPayload.safeParse(payload);
    const person = p.success ? names.get(p.data.identityId) : undefined;
    return p.success && person ? text(l, 'approvals.summary.contact-change', { name: person.name, from: p.data.from, to: p.data.to }) : null;
  },
  'role-grant': (payload, names, l) => {
    const p = rolesPayload.safeParse(payload);
    const person = p.success ? who(names, p.data.identityId) : null;
    return p.success && person ? text(l, 'approvals.summary.role-grant', { roles: roleList(l, p.data.roles), who: person }) : null;
  },
  replacement: (payload, names, l) => {
    const p = identityPayload.safeParse(payload);
    const person = p.success ? who(names, p.data.identityId) : null;
    return p.success && person ? text(l, 'approvals.summary.replacement', { who: person }) : null;
  },
  bulk: (payload, names, l) => {
    const p = bulkPayload.safeParse(payload);
    if (!p.success || names.size === 0) return null;
    const people = [...names.values()].map((n) => n.name).join(text(l, 'console.listSeparator'));
    return text(l, `approvals.summary.bulk.${p.data.action}`, { count: p.data.credentialIds.length, people, reason: reasonLabel(p.data.reason, l) });
  },
  'hsm-key-rotation': keyRequest('approvals.summary.hsm-key-rotation'),
  'hsm-key-emergency-rotation': keyRequest('approvals.summary.hsm-key-emergency-rotation'),
  'hsm-key-destroy': keyRequest('approvals.summary.hsm-key-destroy'),
  'saml-key-activation': samlStep('approvals.summary.saml-key-activation'),
  'saml-key-destroy': samlStep('approvals.summary.saml-key-destroy'),
  'saml-key-discard': samlStep('approvals.summary.saml-key-discard'),
};

function parsed(payload: string | undefined): unknown {
  if (payload === undefined) return undefined;
  try {
    return JSON.parse(payload);
  } catch {
    return undefined;
  }
}

/** The summary of `approval` in `language`; its stored (English) summary when this kind or shape is not rendered. */
export function describeApproval(approval: Pick<ApprovalRecord, 'kind' | 'summary'> & { payload?: string }, names: ApprovalNames, language: Language): string {
  const describe: Describer | undefined = DESCRIBERS[approval.kind];
  return describe?.(parsed(approval.payload), names, language) ?? approval.summary;
}

/** Name and email of each identity in `ids`, read through `get` (a read or write transaction's identities). */
export async function approvalNames(ids: readonly string[], get: (id: string) => Promise<{ name: string; email: string } | undefined>): Promise<ApprovalNames> {
  const out = new Map<string, { name: string; email: string }>();
  for (const id of new Set(ids)) {
    const p = await get(id);
    if (p) out.set(id, { name: p.name, email: p.email });
  }
  return out;
}
