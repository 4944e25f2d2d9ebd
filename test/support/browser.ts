/**
 * The real browser for end-to-end tests: Debian's Chromium driven by playwright-core (no browser
 * download), headless with the flags this workplace needs, and Chromium's CDP virtual
 * authenticator standing in for a FIDO2 security key with PIN.
 */
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** A CTAP2 USB key with resident keys and user verification, touched automatically. */
export const AUTHENTICATOR_OPTIONS = {
  protocol: 'ctap2',
  transport: 'usb',
  hasResidentKey: true,
  hasUserVerification: true,
  isUserVerified: true,
  automaticPresenceSimulation: true,
} as const;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
}
