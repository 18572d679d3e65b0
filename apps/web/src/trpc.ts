import { createTRPCReact } from "@trpc/react-query";
import type { AppRouter } from "@parley/api";

export const trpc = createTRPCReact<AppRouter>();
