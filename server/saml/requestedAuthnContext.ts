/**
 * RequestedAuthnContext (saml-core 3.3.2.2.1) read as OIOSAML 3 uses it: the
 * NSIS level URIs are a MINIMUM whatever the Comparison ("exact" and
 * "minimum" both mean "at least the lowest level listed", since an SP must
 * accept a higher level); "better" means above the highest listed; "maximum"
 * cannot be honoured by an IdP that never asserts less than it achieved, so
 * it is refused. The attribute profile URIs say which profile is wanted: only
 * Professional is offered by a Local IdP. A request that cannot be met is
 * refused with NoAuthnContext, never answered with a lower level.
 */
import { IDENTITY_ASSURANCE_LEVELS, type AssuranceLevel } from '../domain/types.js';
import { NS, OIOSAML } from './constants.js';
import { SamlError } from './errors.js';
import { levelFromClassRef, rank } from './levels.js';
import { attr, childrenNs, textOf } from './xml/dom.js';

export type Comparison = 'exact' | 'minimum' | 'maximum' | 'better';

export interface RequestedContext {
  comparison: Comparison;
  classRefs: string[];
  /** The lowest level that satisfies the request, undefined when no NSIS level was asked for. */
  minimumLevel?: AssuranceLevel;
  /** Whether the professional profile was asked for explicitly. */
  professional: boolean;
}

const COMPARISONS: readonly string[] = ['exact', 'minimum', 'maximum', 'better'];
function isComparison(value: string): value is Comparison {
  return COMPARISONS.includes(value);
}

const PROFILES = new Set<string>([OIOSAML.profileProfessional, OIOSAML.profilePerson]);

/**
 * Reads the RequestedAuthnContext child of `request` (undefined when absent)
 * and checks it against the IdP's highest level. Throws SamlError
 * SAML_NO_AUTHN_CONTEXT (answerable) or SAML_MALFORMED.
 */
export function readRequestedContext(request: Element, idpLevel: AssuranceLevel): RequestedContext | undefined {
  const contexts = childrenNs(request, NS.samlp, 'RequestedAuthnContext');
  if (contexts.length === 0) return undefined;
  if (contexts.length > 1) throw new SamlError('SAML_MALFORMED', 'more than one RequestedAuthnContext');
  const el = contexts[0] as Element;
  const comparisonText = attr(el, 'Comparison') ?? 'exact';
  if (!isComparison(comparisonText)) throw new SamlError('SAML_MALFORMED', `Comparison "${comparisonText}"`);
  const comparison = comparisonText;
  if (childrenNs(el, NS.saml, 'AuthnContextDeclRef').length > 0) {
    throw new SamlError('SAML_NO_AUTHN_CONTEXT', 'AuthnContextDeclRef is not supported');
  }
  const classRefs = childrenNs(el, NS.saml, 'AuthnContextClassRef').map(textOf);
  if (classRefs.length === 0) throw new SamlError('SAML_MALFORMED', 'RequestedAuthnContext without AuthnContextClassRef');

  const levels = classRefs.map(levelFromClassRef).filter((l): l is AssuranceLevel => l !== undefined);
  const professional = classRefs.includes(OIOSAML.profileProfessional);
  if (classRefs.includes(OIOSAML.profilePerson) && !professional) {
    throw new SamlError('SAML_NO_AUTHN_CONTEXT', 'a Local IdP issues the professional profile only');
  }
  if (levels.length === 0 && !classRefs.some((r) => PROFILES.has(r))) {
    throw new SamlError('SAML_NO_AUTHN_CONTEXT', `none of the requested contexts is offered: ${classRefs.join(', ')}`);
  }
  const context: RequestedContext = { comparison, classRefs, professional };
  if (levels.length === 0) return context;
  if (comparison === 'maximum') throw new SamlError('SAML_NO_AUTHN_CONTEXT', 'Comparison "maximum" cannot be honoured: the IdP never asserts less than achieved');

  let minimum: AssuranceLevel | undefined;
  if (comparison === 'better') {
    const highest = Math.max(...levels.map(rank));
    minimum = IDENTITY_ASSURANCE_LEVELS[highest + 1];
    if (!minimum) throw new SamlError('SAML_NO_AUTHN_CONTEXT', 'no level is better than the highest requested');
  } else {
    minimum = IDENTITY_ASSURANCE_LEVELS[Math.min(...levels.map(rank))];
  }
  if (!minimum) throw new SamlError('SAML_NO_AUTHN_CONTEXT', 'no level requested');
  if (rank(minimum) > rank(idpLevel)) {
    throw new SamlError('SAML_NO_AUTHN_CONTEXT', `level ${minimum} is requested; this IdP is registered at ${idpLevel}`);
  }
  context.minimumLevel = minimum;
  return context;
}
