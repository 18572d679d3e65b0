// The input rules of docs/api.md, checked before sending so that mistakes are explained while typing.
// The server checks them again with the same rules (@parley/api/limits); these only save a round trip.
import {
  isBlankText,
  MAX_DISPLAY_TEXT_LENGTH,
  MAX_MESSAGE_LENGTH,
  PASSWORD_LENGTH,
  USERNAME_LENGTH,
  USERNAME_PATTERN,
} from "@parley/api/limits";
import { formatCount } from "./format-count";

export { MAX_MESSAGE_LENGTH };
/** From here on the composer shows how many characters are left. */
export const MESSAGE_COUNTER_FROM = 3000;

export function usernameProblem(username: string): string | null {
  if (username.length < USERNAME_LENGTH.min || username.length > USERNAME_LENGTH.max) {
    return `Username must be ${USERNAME_LENGTH.min} to ${USERNAME_LENGTH.max} characters.`;
  }
  if (!USERNAME_PATTERN.test(username)) return "Use only letters, digits and the characters _ . -";
  return null;
}

export function passwordProblem(password: string): string | null {
  if (password.length < PASSWORD_LENGTH.min || password.length > PASSWORD_LENGTH.max) {
    return `Password must be ${PASSWORD_LENGTH.min} to ${PASSWORD_LENGTH.max} characters.`;
  }
  return null;
}

export function fullNameProblem(fullName: string): string | null {
  return fullName.trim().length > MAX_DISPLAY_TEXT_LENGTH ? `Full name must be at most ${MAX_DISPLAY_TEXT_LENGTH} characters.` : null;
}

export interface ComposerCheck {
  /** Something other than white space to send. */
  sendable: boolean;
  tooLong: boolean;
  /** Text for the character counter, or null when it need not show. */
  counter: string | null;
}

export function checkMessage(text: string, locale?: string): ComposerCheck {
  // The server counts the text after NFC normalisation, which can change its length.
  const length = text.normalize("NFC").length;
  const tooLong = length > MAX_MESSAGE_LENGTH;
  const counter =
    length >= MESSAGE_COUNTER_FROM || tooLong ? `${formatCount(length, locale)} / ${formatCount(MAX_MESSAGE_LENGTH, locale)}` : null;
  return { sendable: !isBlankText(text) && !tooLong, tooLong, counter };
}
