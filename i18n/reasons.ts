/**
 * ONE wording per reason code, for every page and every mail: what the helpdesk picks in a list,
 * what the holder reads on "My keys" and in the revocation receipt, and what the key's history
 * says are the same words. docs/lifecycle.md lists them next to the codes the table accepts.
 */
import type { ReasonCode } from '../server/domain/types.js';
import type { Language } from './languages.js';

export const REASON_LABELS: Readonly<Record<Language, Readonly<Record<ReasonCode, string>>>> = {
  en: {
    registered: 'Registered by the holder',
    activated: 'Activated by the holder',
    lost: 'Lost',
    found: 'Found again',
    damaged: 'Damaged or broken',
    'suspected-compromise': 'Suspected compromise',
    'suspected-clone': 'Suspected copy (clone) of the key',
    'data-error': 'Issued on wrong identity data',
    'agreement-ended': 'Agreement ended',
    'holder-ceased': 'The holder has ceased to exist',
    'employment-ended': 'Employment or binding ended',
    replaced: 'Replaced by a new key',
    'holder-request': 'At the holder’s request',
    expired: 'Validity ran out',
    other: 'Other reason',
  },
};

/** The words for a reason code; an unknown code is shown as it is (never hidden). */
export function reasonLabel(code: string | null | undefined, language: Language, fallback = '—'): string {
  if (!code) return fallback;
  const labels: Readonly<Record<string, string>> = REASON_LABELS[language];
  return labels[code] ?? code;
}
