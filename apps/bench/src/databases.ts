// One database per scenario, copied from a template that already holds the bench users, so argon2
// sign-ups are paid once per run and not once per scenario. SQLite templates are files; PostgreSQL
// ones are databases cloned with CREATE DATABASE ... TEMPLATE (through the psql command line).
import { execFile } from "node:child_process";
import { copyFileSync, existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { startParley } from "./processes.js";
import { signUpUsers, type BenchUser } from "./setup.js";

const run = promisify(execFile);

export type Provider = "sqlite" | "postgresql";

export interface ScenarioDatabase {
  url: string;
  drop(): Promise<void>;
}

export interface DatabaseTemplate {
  provider: Provider;
  /** Signed up and logged in; their refresh tokens are unused in every copy. */
  users: BenchUser[];
  copy(name: string): Promise<ScenarioDatabase>;
  drop(): Promise<void>;
}

export interface TemplateOptions {
  provider: Provider;
  userCount: number;
  /** Where SQLite files and server data go. */
  workDir: string;
  /** PostgreSQL: a database on the server to connect to for CREATE/DROP DATABASE. */
  postgresAdminUrl?: string;
  jwtSecret: string;
  /** The server bundle that signs the users up. */
  bundle: string;
  /** Names databases and users of this run apart from any other. */
  runId: string;
  log: (line: string) => void;
  /** Its name among the run's templates (default "template"): two builds' templates side by side. */
  templateName?: string;
}

export async function createTemplate(options: TemplateOptions): Promise<DatabaseTemplate> {
  const { provider, workDir, runId } = options;
  const name = options.templateName ?? "template";
  const base = provider === "sqlite" ? sqliteTemplate(workDir, name) : postgresTemplate(requireAdminUrl(options), runId, name);
  const database = await base.createTemplate();
  const started = performance.now();
  // Unpinned: sign-up is setup, and argon2 gets both cores.
  const server = await startParley({ bundle: options.bundle, databaseUrl: database, dataDir: workDir, jwtSecret: options.jwtSecret, cpu: null }, `parley (${provider} setup)`);
  let users: BenchUser[];
  try {
    users = await signUpUsers(server.url, options.userCount, `b${runId}u`);
  } finally {
    await server.stop();
  }
  options.log(`${provider}: ${users.length} users signed up and logged in in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return { provider, users, copy: base.copy, drop: base.dropTemplate };
}

function requireAdminUrl(options: TemplateOptions): string {
  if (!options.postgresAdminUrl) throw new Error("PostgreSQL runs need a PostgreSQL URL (--postgres)");
  return options.postgresAdminUrl;
}

interface TemplateStore {
  createTemplate(): Promise<string>;
  copy(name: string): Promise<ScenarioDatabase>;
  dropTemplate(): Promise<void>;
}

function sqliteTemplate(workDir: string, templateName: string): TemplateStore {
  const templatePath = join(workDir, `${templateName}.db`);
  const files = (path: string) => [path, `${path}-wal`, `${path}-shm`];
  const remove = (path: string) => {
    for (const file of files(path)) rmSync(file, { force: true });
  };
  return {
    createTemplate: async () => `file:${templatePath}`,
    copy: async (name) => {
      const path = join(workDir, `${name}.db`);
      remove(path);
      files(templatePath).forEach((source, i) => {
        if (existsSync(source)) copyFileSync(source, files(path)[i] as string);
      });
      return { url: `file:${path}`, drop: async () => remove(path) };
    },
    dropTemplate: async () => remove(templatePath),
  };
}

function postgresTemplate(adminUrl: string, runId: string, templateName: string): TemplateStore {
  const template = `parley_bench_${runId}_${templateName}`.toLowerCase();
  const urlOf = (name: string) => {
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return url.toString();
  };
  const drop = (name: string) => psql(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  return {
    createTemplate: async () => {
      await drop(template);
      await psql(adminUrl, `CREATE DATABASE "${template}"`);
      return urlOf(template);
    },
    copy: async (name) => {
      const database = `parley_bench_${runId}_${name}`.toLowerCase();
      await drop(database);
      await psql(adminUrl, `CREATE DATABASE "${database}" TEMPLATE "${template}"`);
      return { url: urlOf(database), drop: () => drop(database) };
    },
    dropTemplate: () => drop(template),
  };
}

async function psql(url: string, sql: string): Promise<void> {
  try {
    await run("psql", [url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql], { timeout: 60_000 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new Error(`psql failed (${sql}): ${stderr || String(error)}`);
  }
}

/** An empty PostgreSQL database of this run (dropped with the run's others), without a template. */
export async function emptyPostgresDatabase(adminUrl: string, runId: string, name: string): Promise<ScenarioDatabase> {
  const database = `parley_bench_${runId}_${name}`.toLowerCase();
  const drop = () => psql(adminUrl, `DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  await drop();
  await psql(adminUrl, `CREATE DATABASE "${database}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return { url: url.toString(), drop };
}

/** Drops every database this run created (after an interrupted run, too). */
export async function dropRunDatabases(adminUrl: string, runId: string): Promise<void> {
  const { stdout } = await run("psql", [adminUrl, "-At", "-c", `SELECT datname FROM pg_database WHERE datname LIKE 'parley_bench_${runId}_%'`], { timeout: 60_000 });
  for (const name of stdout.split("\n").filter(Boolean)) await psql(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
}
