// What every scenario of one run shares: the parameters, where servers run, the database
// templates with their users, and a way to get a fresh database with conversations in it.
import { createTemplate, type DatabaseTemplate, type Provider } from "./databases.js";
import type { Params } from "./params.js";
import { startParley } from "./processes.js";
import { createConversations, refreshUsers, type BenchUser } from "./setup.js";
import type { ParleyFeed } from "./protocols.js";
import { baselineTarget, parleyTarget, type Target } from "./targets.js";

export interface RunContext {
  params: Params;
  runId: string;
  workDir: string;
  jwtSecret: string;
  /** The Parley server bundle under test. */
  serverBundle: string;
  /** Extra node flags for the Parley servers under test (not for setup servers). */
  serverNodeFlags: string[];
  /** Profile scenario 1 at this rate rather than at the knee. */
  profileRate: number | null;
  /** The core servers are pinned to (null: not pinned). */
  serverCpu: number | null;
  postgresUrl: string | null;
  redisUrl: string | null;
  log: (line: string) => void;
  templates: Map<Provider, Promise<DatabaseTemplate>>;
  /** The name of this context's database templates (default "template"; see scenarios/cpu.ts). */
  templateName?: string;
  /** The scenarios this run includes ("s1" ... "s5"): the templates get as many users as they need. */
  scenarios: ReadonlySet<string>;
}

export function template(context: RunContext, provider: Provider): Promise<DatabaseTemplate> {
  let pending = context.templates.get(provider);
  if (!pending) {
    const { knee, fanout, idle, live, step } = context.params;
    // PostgreSQL runs scenarios 1, 3 and 4 only: no idle connections there.
    const needs = [
      ["s1", "s1sync", "cpu", "s5", "s6", "s8", "s9"].some((s) => context.scenarios.has(s)) ? knee.clients : 2,
      // Scenario 7's churning users connect once each per step.
      context.scenarios.has("s7") ? knee.clients + Math.ceil((live.churnPerSecond * (step.warmupMs + step.measureMs)) / 1000) : 2,
      context.scenarios.has("s3") ? fanout.members : 2,
      context.scenarios.has("s2") && provider === "sqlite" ? idle.connections : 2,
    ];
    pending = createTemplate({
      provider,
      userCount: Math.max(...needs),
      workDir: context.workDir,
      ...(context.postgresUrl ? { postgresAdminUrl: context.postgresUrl } : {}),
      jwtSecret: context.jwtSecret,
      bundle: context.serverBundle,
      runId: context.runId,
      log: context.log,
      ...(context.templateName ? { templateName: context.templateName } : {}),
    });
    context.templates.set(provider, pending);
  }
  return pending;
}

export interface PreparedDatabase {
  provider: Provider;
  url: string;
  /** With fresh access tokens. */
  users: BenchUser[];
  conversationIds: string[];
  /**
   * The users with access tokens good for a while yet, refreshed through `url` when needed: a
   * WebSocket connection is closed when the token it authenticated with expires (30 minutes).
   */
  freshUsers(url: string): Promise<BenchUser[]>;
  drop(): Promise<void>;
}

const TOKEN_REFRESH_AFTER_MS = 10 * 60_000;

/** A copy of the provider's template with `userCount` users' tokens refreshed and one conversation per room. */
export async function prepareDatabase(context: RunContext, provider: Provider, name: string, userCount: number, rooms: number[][]): Promise<PreparedDatabase> {
  const source = await template(context, provider);
  if (source.users.length < userCount) throw new Error(`the ${provider} template has ${source.users.length} users, ${userCount} needed`);
  const database = await source.copy(name);
  try {
    // Unpinned: this is setup.
    const server = await startParley(
      { bundle: context.serverBundle, databaseUrl: database.url, dataDir: context.workDir, jwtSecret: context.jwtSecret, cpu: null },
      `parley (${name} setup)`,
    );
    try {
      const users = await refreshUsers(server.url, source.users.slice(0, userCount));
      let refreshedAt = Date.now();
      const prepared: PreparedDatabase = {
        provider,
        url: database.url,
        users,
        conversationIds: await createConversations(server.url, users, rooms),
        freshUsers: async (url) => {
          if (Date.now() - refreshedAt > TOKEN_REFRESH_AFTER_MS) {
            prepared.users = await refreshUsers(url, prepared.users);
            refreshedAt = Date.now();
          }
          return prepared.users;
        },
        drop: database.drop,
      };
      return prepared;
    } finally {
      await server.stop();
    }
  } catch (error) {
    await database.drop();
    throw error;
  }
}

const providerLabel: Record<Provider, string> = { sqlite: "SQLite", postgresql: "PostgreSQL" };

export function parleyOn(context: RunContext, database: PreparedDatabase, instances = 1, feed: ParleyFeed = "message.live"): Target {
  const label = instances > 1 ? `Parley (${providerLabel[database.provider]}, ${instances} instances + Redis)` : `Parley (${providerLabel[database.provider]})`;
  if (instances > 1 && !context.redisUrl) throw new Error("several instances need Redis (--redis)");
  return parleyTarget({
    label,
    bundle: context.serverBundle,
    nodeFlags: context.serverNodeFlags,
    databaseUrl: database.url,
    workDir: context.workDir,
    jwtSecret: context.jwtSecret,
    cpu: context.serverCpu,
    instances,
    feed,
    ...(instances > 1 && context.redisUrl ? { redisUrl: context.redisUrl } : {}),
  });
}

export function baselineOf(context: RunContext): Target {
  return baselineTarget(context.serverCpu);
}
