export { startServer, type RunningServer, type StartOptions } from "./server.js";
export { loadConfig, ConfigError, type ServerConfig, type LogLevel } from "./config.js";
export { createLogger, type Logger } from "./log.js";
