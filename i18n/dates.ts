/**
 * The one date format of each language, for pages and mails alike.
 *
 * Pages show a time in the reader's own time zone (the browser's); mails show it in the
 * organisation's zone (GATEWAY_TIME_ZONE, Europe/Copenhagen by default) and name that zone, since
 * a mail is read anywhere and later: "29 Mar 2026, 01:30 CET (Europe/Copenhagen)". Never a UTC
 * ISO string for a person to decode.
 */
import type { Language } from './languages.js';

/** The BCP 47 locale whose conventions each language's dates follow. */
const LOCALE: Readonly<Record<Language, string>> = { da: 'da-DK', en: 'en-GB' };

const PARTS: Intl.DateTimeFormatOptions = { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' };

export interface DateOptions {
  language: Language;
  /** IANA zone; the runtime's own zone (the reader's, in a browser) when absent. */
  timeZone?: string;
  /** Append the zone: its short name, and the IANA name it belongs to. */
  nameZone?: boolean;
}

/** A date and time in the language's format; `fallback` for null, the input itself if unreadable. */
export function formatDateTime(iso: string | null | undefined, opts: DateOptions, fallback = '—'): string {
  if (!iso) return fallback;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const format = new Intl.DateTimeFormat(LOCALE[opts.language], {
    ...PARTS,
    ...(opts.timeZone ? { timeZone: opts.timeZone } : {}),
    ...(opts.nameZone ? { timeZoneName: 'short' } : {}),
  });
  const text = format.format(date);
  return opts.nameZone ? `${text} (${format.resolvedOptions().timeZone})` : text;
}

/** ISO 8601 instants inside a text (e.g. "pending until 2026-01-15T12:00:00.000Z"). */
const ISO_INSTANT = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})/g;

/** `text` (a server's result line, say) with every ISO instant in it in the language's format. */
export function formatDatesIn(text: string, opts: DateOptions): string {
  return text.replace(ISO_INSTANT, (iso) => formatDateTime(iso, opts, iso));
}

/** True when `zone` is an IANA time zone this runtime knows (for checking configuration). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
