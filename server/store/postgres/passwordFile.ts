/**
 * GATEWAY_DATABASE_PASSWORD_FILE: the database password kept out of the URL and the environment
 * (a mounted secret). Refused unless it is a regular file that only its owner may read; one
 * trailing newline is ignored. Read when the pool is built, never logged.
 */
import fs from 'node:fs';
import { DatabaseUrlError } from './databaseUrl.js';

export function readPasswordFile(file: string): string {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new DatabaseUrlError(`${file} does not exist`);
  }
  if (!stat.isFile()) throw new DatabaseUrlError(`${file} is not a file`);
  if ((stat.mode & 0o077) !== 0) throw new DatabaseUrlError(`${file} is readable by group or others; chmod 600 it`);
  const password = fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  if (password === '') throw new DatabaseUrlError(`${file} is empty`);
  if (/[\r\n\0]/.test(password)) throw new DatabaseUrlError(`${file} holds more than one line`);
  return password;
}
