/**
 * Parameters of an authorization request whose meaning OpenID Connect Core 1.0 §3.1.2.1 defines,
 * decided here as tables (pure; the provider asks them).
 */

/**
 * OIDC Core §3.1.2.1 `prompt`, per value: whether it needs a sign-in made for this request (a key
 * touch after the request arrived) instead of single sign-on.
 * - `login`: a fresh key touch (NSIS 6 (Substantial) 8).
 * - `consent`: consent is implicit. Every relying party is one of the organisation's own systems,
 *   registered by its administrator with the scopes it may ask for; the person is never asked,
 *   so the request is served as if consent had been given (never `consent_required`).
 * - `select_account`: the sign-in page, where the person chooses the account by the key they
 *   touch (and the email they may enter); single sign-on is skipped so the choice is theirs.
 * - `none`: no page at all; alone only (§3.1.2.1: with any other value it is invalid_request).
 */
export const PROMPT_RULES = {
  none: { freshSignIn: false },
  login: { freshSignIn: true },
  consent: { freshSignIn: false },
  select_account: { freshSignIn: true },
} as const;

export type Prompt = keyof typeof PROMPT_RULES;
export const PROMPT_VALUES = Object.keys(PROMPT_RULES) as Prompt[];

function isPrompt(v: string): v is Prompt {
  return Object.hasOwn(PROMPT_RULES, v);
}

export type PromptDecision = { ok: true; prompts: Prompt[]; none: boolean; freshSignIn: boolean } | { ok: false; description: string };

/** A space-delimited, case-sensitive list of prompt values (OIDC Core §3.1.2.1). */
export function parsePrompt(raw: string | undefined): PromptDecision {
  const values = (raw ?? '').split(' ').filter((v) => v.length > 0);
  const prompts: Prompt[] = [];
  for (const v of values) {
    if (!isPrompt(v)) return { ok: false, description: `prompt value ${JSON.stringify(v.slice(0, 40))} is not supported; use ${PROMPT_VALUES.join(', ')}.` };
    if (!prompts.includes(v)) prompts.push(v);
  }
  if (prompts.includes('none') && prompts.length > 1) return { ok: false, description: 'prompt=none cannot be combined with other prompt values.' };
  return { ok: true, prompts, none: prompts.includes('none'), freshSignIn: prompts.some((p) => PROMPT_RULES[p].freshSignIn) };
}

/**
 * OAuth 2.0 response modes this provider answers in (OAuth 2.0 Multiple Response Type Encoding
 * Practices §2.1 `query`; OAuth 2.0 Form Post Response Mode §2 `form_post`). `fragment` is not
 * offered: it is meant for responses that carry tokens, and this provider issues only codes.
 */
export const RESPONSE_MODES = ['query', 'form_post'] as const;
export type ResponseMode = (typeof RESPONSE_MODES)[number];

export function parseResponseMode(raw: string | undefined): ResponseMode | undefined {
  if (raw === undefined) return 'query';
  return RESPONSE_MODES.find((m) => m === raw);
}
