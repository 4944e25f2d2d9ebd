/**
 * English: the source of every key (and of its placeholders). One module per area of the product;
 * the mails move into a mail.ts here (and in every other language) when a person has a language.
 */
import { admin } from './admin.js';
import { clients } from './clients.js';
import { common } from './common.js';
import { consoleWords } from './console.js';
import { helpdesk } from './helpdesk.js';
import { keys } from './keys.js';
import { problems } from './problems.js';
import { provisioning } from './provisioning.js';
import { reasons } from './reasons.js';
import { security } from './security.js';
import { server } from './server.js';
import { signin } from './signin.js';

export const en = { ...common, ...problems, ...reasons, ...signin, ...keys, ...consoleWords, ...admin, ...helpdesk, ...security, ...server, ...provisioning, ...clients } as const;

/** The English area modules, for the Danish (and any later) catalogue to be typed against. */
export type EnglishAreas = {
  admin: typeof admin;
  clients: typeof clients;
  common: typeof common;
  consoleWords: typeof consoleWords;
  helpdesk: typeof helpdesk;
  keys: typeof keys;
  problems: typeof problems;
  provisioning: typeof provisioning;
  reasons: typeof reasons;
  security: typeof security;
  server: typeof server;
  signin: typeof signin;
};
