/**
 * One sentence per stable error code (server/errors.ts ErrorCode), for the pages and the styled
 * error pages. English pages keep the server's own detail where it is written for people (it may
 * carry facts such as the attempts left); these words replace it where it is not, and on every
 * page in another language.
 */
import type { ErrorCode } from '../../server/errors.js';

export const problems = {
  'problem.VALIDATION_FAILED': 'Some of what was entered is not valid. Check the fields and try again.',
  'problem.UNSUPPORTED_MEDIA_TYPE': 'The request was sent in a form the server does not accept.',
  'problem.PAYLOAD_TOO_LARGE': 'What was sent is too large.',
  'problem.MALFORMED_JSON': 'The request could not be read.',
  'problem.MALFORMED_PATH': 'The web address is not valid.',
  'problem.NOT_FOUND': 'What was asked for does not exist (any more).',
  'problem.UNAUTHENTICATED': 'Sign in with your security key first.',
  'problem.FORBIDDEN': 'You are not allowed to do this.',
  'problem.ROLE_REQUIRED': 'Your account does not have the role this needs.',
  'problem.CSRF_CHECK_FAILED': 'The request did not come from this gateway’s own pages. Reload the page and try again.',
  'problem.LIFECYCLE_TRANSITION_REFUSED': 'The key is not in a state that allows this.',
  'problem.LIFECYCLE_ROLE_REFUSED': 'Your role may not do this to the key.',
  'problem.LIFECYCLE_REASON_REFUSED': 'This reason is not accepted for this action.',
  'problem.LIFECYCLE_BINDING_SUSPENDED': 'The organisation’s directory has suspended this person: the key can be reactivated only after the directory makes them active again.',
  'problem.LIFECYCLE_REACTIVATION_FORBIDDEN': 'A key suspended for a suspected compromise or copy cannot be reactivated: revoke it and issue a new key.',
  'problem.LIFECYCLE_CONFLICT': 'The key was changed by someone else at the same time. Reload and try again.',
  'problem.ENROLMENT_INVALID': 'This enrolment link is not valid: it may have been used, replaced or expired. Ask for a new one.',
  'problem.ENROLMENT_LOCKED': 'Too many failed registrations with this enrolment link: it is locked. Ask your administrator for a new one.',
  'problem.CEREMONY_FAILED': 'Your security key’s answer could not be checked. Try again; if it happens again, contact the helpdesk.',
  'problem.CHALLENGE_INVALID': 'This request has expired or was already used. Press the button again.',
  'problem.ACTIVATION_CODE_INVALID': 'The activation code is not right. Check it and try again; after too many wrong attempts it locks.',
  'problem.ACTIVATION_CODE_LOCKED': 'The activation code is locked after too many wrong attempts. The helpdesk can send a new one.',
  'problem.ACTIVATION_NOT_PENDING':
    'This key is not waiting for activation: it may be active already (then sign in), or its activation was withdrawn. The helpdesk can send a new activation code.',
  'problem.SIGNIN_FAILED': 'Sign-in failed. Check that you use a registered, active security key, or contact the helpdesk.',
  'problem.BINDING_ENDED': 'This person’s binding to the organisation has ended.',
  'problem.CONFLICT': 'This clashes with something that already exists or was changed at the same time.',
  'problem.SERVICE_UNAVAILABLE': 'The service is busy or cannot reach a part it needs. Nothing was changed. Try again in a moment.',
  'problem.INTERNAL_ERROR': 'Something went wrong on the server. Try again in a moment.',
  'problem.AUDIENCE_NOT_ALLOWED': 'This application may not ask for that.',
  'problem.STEP_UP_REQUIRED': 'This change needs a fresh confirmation with your security key.',
  'problem.SEGREGATION_OF_DUTIES': 'Two-person control: the same person may not both ask for and approve this.',
  'problem.APPROVAL_WITHDRAWN': 'This request is no longer valid: it was withdrawn.',
  'problem.RATE_LIMITED': 'Too many attempts. Wait a minute, then try again.',
  'problem.IMPORT_INVALID': 'The import was refused.',
  'problem.AUTHENTICATOR_REFUSED': 'This kind of security key is not accepted here.',
  'problem.KEY_LIMIT_REACHED': 'You have as many security keys as one person may have. Revoke one you no longer use first.',
  'problem.OIDC_REQUEST_REFUSED': 'The application’s sign-in request does not match how it is registered at this gateway.',
  'problem.OIDC_REQUEST_UNKNOWN': 'This sign-in link has expired or was already used.',
  'problem.OIDC_BROWSER_MISMATCH': 'This sign-in was started in another browser.',
  'problem.OIDC_LOGOUT_NOT_CONFIRMED': 'The sign-out was not confirmed. You are still signed in.',
  'problem.SAML_REQUEST_REFUSED': 'The service’s sign-in request was refused: it is not signed as registered, is too old, or was already used.',
  'problem.SAML_REQUEST_UNKNOWN': 'This sign-in request has expired or was already used.',
  'problem.SAML_BROWSER_MISMATCH': 'This sign-in was started in another browser.',
  'problem.SAML_NOT_CONFIGURED': 'This gateway does not act as a SAML identity provider.',
  'problem.SAML_METADATA_REFUSED': 'The service provider’s metadata was refused.',
  'problem.SAML_KEY_STATE': 'The SAML signing key is not in a state that allows this step.',
  'problem.IDM_SYNC_OFF': 'The outbound sync to MitID Erhverv is off: there is nothing to reconcile with.',
  'problem.IDM_RECONCILIATION_RUNNING': 'A reconciliation with MitID Erhverv is running now; its outcome is shown when it ends.',
} as const satisfies Record<`problem.${ErrorCode}`, string>;
