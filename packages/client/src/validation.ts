// The input rules of docs/api.md, checked before sending so that mistakes are explained while typing.
// The server checks them again; these only save a round trip.
import { formatCount } from "./format-count";

export const MAX_MESSAGE_LENGTH = 4000;
/** From here on the composer shows how many characters are left. */
export const MESSAGE_COUNTER_FROM = 3000;

export function usernameProblem(username: string): string | null {
  if (username.length < 3 || username.length > 32) return "Username must be 3 to 32 characters.";
  if (!/^[a-zA-Z0-9_.-]+$/.test(username)) return "Use only letters, digits and the characters _ . -";
  return null;
}

export function passwordProblem(password: string): string | null {
  if (password.length < 8 || password.length > 128) return "Password must be 8 to 128 characters.";
  return null;
}

export function fullNameProblem(fullName: string): string | null {
  return fullName.trim().length > 100 ? "Full name must be at most 100 characters." : null;
}

export interface ComposerCheck {
  /** Something other than white space to send. */
  sendable: boolean;
  tooLong: boolean;
  /** Text for the character counter, or null when it need not show. */
  counter: string | null;
}

/**
 * Shows nothing: white space, format, control or invisible characters only. The server refuses
 * such a message (isBlankText in packages/api/src/schemas.ts); keep the two alike.
 */
const BLANK = /^[\s\p{Cf}\p{Cc}\u115F\u1160\u3164\uFFA0\u2800]*$/u;

export function checkMessage(text: string, locale?: string): ComposerCheck {
  // The server counts the text after NFC normalisation, which can change its length.
  const length = text.normalize("NFC").length;
  const tooLong = length > MAX_MESSAGE_LENGTH;
  const counter =
    length >= MESSAGE_COUNTER_FROM || tooLong ? `${formatCount(length, locale)} / ${formatCount(MAX_MESSAGE_LENGTH, locale)}` : null;
  return { sendable: !BLANK.test(text) && !tooLong, tooLong, counter };
}
