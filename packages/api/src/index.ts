export { appRouter, createCaller, type AppRouter } from "./root.js";
export {
  createServices,
  createContext,
  defaultApiConfig,
  type ApiConfig,
  type ApiDeps,
  type Context,
  type Services,
} from "./context.js";
export { silentLogger, type Logger } from "./logger.js";
export { systemClock, type Clock } from "./clock.js";
export { InProcessEventBus, type EventBus, type ParleyEvent, type EventListener, type MessageCreatedEvent } from "./live/event-bus.js";
export { RedisEventBus, type RedisBusOptions } from "./live/redis-bus.js";
export { MAX_CALLS_PER_BATCH } from "./limits.js";
export { OWASP_MINIMUM, type PasswordCost } from "./auth/passwords.js";
export type {
  ConversationDto,
  ListConversationsInput,
  ListUsersInput,
  MessageDto,
  SearchUsersInput,
  TokensDto,
  UserDto,
} from "./schemas.js";
// The wire schemas and their limits, for clients that validate or page (the web app).
export {
  CONVERSATION_PAGE_MAX,
  MAX_MEMBER_IDS,
  MEMBERS_IN_LIST,
  USER_PAGE_MAX,
  USER_SEARCH_DEFAULT,
  USER_SEARCH_MAX,
  conversationSchema,
  createConversationInput,
  fullNameSchema,
  getConversationInput,
  isBlankText,
  listConversationsInput,
  listUsersInput,
  messageContentSchema,
  messageSchema,
  searchUsersInput,
  titleSchema,
  userSchema,
} from "./schemas.js";
