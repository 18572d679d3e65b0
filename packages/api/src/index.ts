export { appRouter, createCaller, type AppRouter } from "./root.js";
export {
  createServices,
  createContext,
  defaultApiConfig,
  systemClock,
  type ApiConfig,
  type ApiDeps,
  type Clock,
  type Context,
  type Services,
} from "./context.js";
export { InProcessEventBus, type EventBus, type ParleyEvent, type EventListener, type MessageEvent } from "./live/event-bus.js";
export { RedisEventBus, type RedisBusOptions } from "./live/redis-bus.js";
export { OWASP_MINIMUM, type PasswordCost } from "./auth/passwords.js";
export type { ConversationDto, MessageDto, TokensDto, UserDto } from "./schemas.js";
