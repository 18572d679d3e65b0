// The wire shapes of docs/api.md, as the client sees them. Type-only: nothing of the server is bundled.
export type {
  AttachmentDto as Attachment,
  ConversationDto as Conversation,
  FileUrlDto as FileUrl,
  FeedEvent,
  MemberDto as Member,
  MessageDto as Message,
  TokensDto as Tokens,
  UserDto as User,
  UserPresenceDto as UserPresence,
} from "@parley/api/schemas";

import type { UserPresenceDto } from "@parley/api/schemas";
export type PresenceStatus = UserPresenceDto["status"];
