// What the helpdesk page knows now: the signed-in staff member, the person open, the approvals,
// the keys chosen for a bulk action; and how people are named on the page.
import { t } from '../common.js';
import type { Identity } from '../common.js';
import { actorRoleWords } from '../console.js';
import type { IdentitySummary } from '../console.js';
import type { PersonView, Approval } from './types.js';

/** The page's state (one object, so that every module reads and changes the same values). */
export const hd: {
  me: Identity | null;
  /** False once the session ended or the role was withdrawn: late answers are then ignored. */
  allowed: boolean;
  results: IdentitySummary[];
  person: PersonView | null;
  approvals: Approval[];
} = { me: null, allowed: false, results: [], person: null, approvals: [] };
export const selectedForBulk = new Set<string>();

export function actorText(id: string | null, name: string | null | undefined, role: string): string {
  const roleWords = actorRoleWords(role);
  if (hd.me && id === hd.me.id) return t('helpdesk.actor.you', { role: roleWords });
  if (name) return role === 'holder' ? t('helpdesk.actor.holder', { name }) : t('helpdesk.actor.named', { name, role: roleWords });
  return roleWords;
}

export function personText(id: string | null, name: string | null | undefined): string {
  if (!id) return t('common.none');
  if (hd.me && id === hd.me.id) return t('common.you');
  return name ?? t('duties.someoneElse', { id: id.slice(0, 8) });
}
