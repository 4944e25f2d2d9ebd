/**
 * What the core tells an observer (metrics) after each commit: the same facts as the audit events
 * it just committed, with bounded labels. The core knows nothing of the observer's technology.
 */
import type { JsonValue } from '../audit/canonicalJson.js';
import type { CredentialState } from '../domain/types.js';
import type { LifecycleAction } from '../lifecycle/index.js';

export type GatewayEvent =
  | { kind: 'ceremony'; ceremony: 'enrolment' | 'activation' | 'signin'; outcome: 'succeeded' | 'refused' }
  | { kind: 'refusal'; event: string; reason: string }
  | { kind: 'transition'; action: LifecycleAction | 'issue'; from: CredentialState | 'none'; to: CredentialState };

const CEREMONY_OF_EVENT: Readonly<Record<string, 'enrolment' | 'activation' | 'signin'>> = {
  'enrolment.refused': 'enrolment',
  'activation.refused': 'activation',
  'signin.refused': 'signin',
};

/** What an audit event of the core means for the observer. */
export function eventsOf(type: string, data: { [key: string]: JsonValue }): GatewayEvent[] {
  if (type.endsWith('.refused') || type === 'staff-action.rate-limited') {
    const reason = data['reason'];
    const out: GatewayEvent[] = [{ kind: 'refusal', event: type, reason: typeof reason === 'string' ? reason : type }];
    const ceremony = CEREMONY_OF_EVENT[type];
    if (ceremony) out.push({ kind: 'ceremony', ceremony, outcome: 'refused' });
    return out;
  }
  if (type === 'credential.issued') {
    return [
      { kind: 'ceremony', ceremony: 'enrolment', outcome: 'succeeded' },
      { kind: 'transition', action: 'issue', from: 'none', to: 'issued' },
    ];
  }
  if (type === 'signin.succeeded') return [{ kind: 'ceremony', ceremony: data['via'] === 'activation' ? 'activation' : 'signin', outcome: 'succeeded' }];
  return [];
}
