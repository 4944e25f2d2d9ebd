/**
 * Dansk: hver ordgruppe oversat fra den engelske (en/), som den er typet efter, så compileren
 * melder enhver manglende eller overskydende nøgle.
 */
import { admin } from './admin.js';
import { auditEvents } from './auditEvents.js';
import { auditTrail } from './auditTrail.js';
import { answers } from './answers.js';
import { clients } from './clients.js';
import { common } from './common.js';
import { consoleWords } from './console.js';
import { helpdesk } from './helpdesk.js';
import { keys } from './keys.js';
import { mails } from './mails.js';
import { problems } from './problems.js';
import { provisioning } from './provisioning.js';
import { reasons } from './reasons.js';
import { samlKeys } from './samlKeys.js';
import { security } from './security.js';
import { server } from './server.js';
import { signin } from './signin.js';
import { validation } from './validation.js';

export const da = { ...common, ...problems, ...reasons, ...signin, ...keys, ...consoleWords, ...admin, ...helpdesk, ...security, ...server, ...provisioning, ...auditEvents, ...auditTrail, ...mails, ...answers, ...clients, ...samlKeys, ...validation };
