// The wire shapes of docs/api.md, as the client sees them. Type-only: nothing of the server is bundled.
export type { ConversationDto as Conversation, MessageDto as Message, TokensDto as Tokens, UserDto as User } from "@parley/api/schemas";
