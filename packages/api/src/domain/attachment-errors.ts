import type { AttachmentProblem } from "@parley/db";
import { DomainError } from "../errors.js";

/** Why an upload could not be attached, as the contract's error: NOT_FOUND for an id that names none, else BAD_REQUEST. */
export function attachmentError(attachmentId: string, problem: AttachmentProblem): DomainError {
  switch (problem) {
    case "not_found":
      return new DomainError("not_found", `No such upload: ${attachmentId}`);
    case "not_yours":
      return new DomainError("invalid", `Upload ${attachmentId} was uploaded by someone else`);
    case "other_conversation":
      return new DomainError("invalid", `Upload ${attachmentId} belongs to another conversation`);
    case "attached":
      return new DomainError("invalid", `Upload ${attachmentId} is already attached to a message`);
  }
}
