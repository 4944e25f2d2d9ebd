/**
 * English: the source of every key (and of its placeholders). One module per area of the product;
 * the mails are in mails.ts here (and in every other language), in each recipient's own language.
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

export const en = { ...common, ...problems, ...reasons, ...signin, ...keys, ...consoleWords, ...admin, ...helpdesk, ...security, ...server, ...provisioning, ...auditEvents, ...auditTrail, ...mails, ...answers, ...clients, ...samlKeys, ...validation } as const;

/** The English area modules, for the Danish (and any later) catalogue to be typed against. */
export type EnglishAreas = {
  admin: typeof admin;
  auditEvents: typeof auditEvents;
  auditTrail: typeof auditTrail;
  answers: typeof answers;
  clients: typeof clients;
  common: typeof common;
  consoleWords: typeof consoleWords;
  helpdesk: typeof helpdesk;
  keys: typeof keys;
  mails: typeof mails;
  problems: typeof problems;
  provisioning: typeof provisioning;
  reasons: typeof reasons;
  samlKeys: typeof samlKeys;
  security: typeof security;
  server: typeof server;
  signin: typeof signin;
  validation: typeof validation;
};
