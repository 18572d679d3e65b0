// SQLite WAL checkpoints on a thread of their own.
//
// With journal_mode=WAL and synchronous=NORMAL a commit only appends to the WAL; the fsyncs happen
// at checkpoints, which SQLite by default runs inside whichever commit pushes the WAL past 1,000
// pages. better-sqlite3 is synchronous, so that commit - and the whole event loop - would wait for
// two fsyncs. Instead the server's connection never checkpoints, and a worker thread with its own
// connection runs a PASSIVE checkpoint (it never waits for, nor blocks, readers and writers) every
// interval. Should the worker fail, the connection goes back to checkpointing by itself.
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import type BetterSqlite3 from "better-sqlite3";

export interface Checkpointer {
  /** Resolves once the worker has run one checkpoint (tests use it). */
  checkpointed(): Promise<number>;
  /**
   * Copies the whole WAL into the database file and truncates the WAL to zero bytes (a TRUNCATE
   * checkpoint), retried every interval until no reader holds an older snapshot; resolves then.
   * After a message is deleted this leaves no frame with its old text in the WAL file.
   */
  truncate(): Promise<void>;
  stop(): Promise<void>;
}

/** SQLite's own default, restored if the worker fails. */
const DEFAULT_AUTOCHECKPOINT_PAGES = 1_000;

// CommonJS, evaluated in the worker: it has `require`, and gets the driver's absolute path.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.path, { timeout: 0 });
const run = () => {
  try {
    const [row] = db.pragma("wal_checkpoint(PASSIVE)");
    parentPort.postMessage({ checkpointed: row ? row.checkpointed : 0 });
  } catch (error) {
    // SQLITE_BUSY: another checkpoint is running; the next interval tries again.
    if (!(error && error.code === "SQLITE_BUSY")) throw error;
  }
};
let truncateWanted = false;
const truncate = () => {
  try {
    const [row] = db.pragma("wal_checkpoint(TRUNCATE)");
    // busy: a reader still holds an older snapshot; the WAL was not reset, so try again.
    if (row && row.busy === 0) {
      truncateWanted = false;
      parentPort.postMessage({ truncated: true });
    }
  } catch (error) {
    if (!(error && error.code === "SQLITE_BUSY")) throw error;
  }
};
const timer = setInterval(() => (truncateWanted ? truncate() : run()), workerData.intervalMs);
parentPort.on("message", (message) => {
  if (message === "truncate") {
    truncateWanted = true;
    truncate();
  }
  if (message === "stop") {
    clearInterval(timer);
    try { run(); } finally { db.close(); parentPort.close(); }
  }
});
`;

export function startCheckpointer(connection: BetterSqlite3.Database, path: string, intervalMs = 200): Checkpointer {
  connection.pragma("wal_autocheckpoint = 0");
  const driver = createRequire(import.meta.url).resolve("better-sqlite3");
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, path, intervalMs } });
  // Never what keeps the process alive.
  worker.unref();
  let waiters: ((pages: number) => void)[] = [];
  let truncateWaiters: (() => void)[] = [];
  let failed = false;
  worker.on("message", (message: { checkpointed: number } | { truncated: true }) => {
    if ("truncated" in message) {
      const done = truncateWaiters;
      truncateWaiters = [];
      for (const resolve of done) resolve();
      return;
    }
    const ready = waiters;
    waiters = [];
    for (const resolve of ready) resolve(message.checkpointed);
  });
  worker.on("error", () => {
    failed = true;
    if (connection.open) connection.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
    const done = truncateWaiters;
    truncateWaiters = [];
    for (const resolve of done) resolve();
  });
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  return {
    checkpointed: () => (failed ? Promise.reject(new Error("the checkpoint worker failed")) : new Promise((resolve) => waiters.push(resolve))),
    truncate() {
      if (failed) {
        // The connection checkpoints by itself now; it can truncate too (rare: after a delete).
        if (connection.open) connection.pragma("wal_checkpoint(TRUNCATE)");
        return Promise.resolve();
      }
      const done = new Promise<void>((resolve) => truncateWaiters.push(resolve));
      worker.postMessage("truncate");
      return done;
    },
    async stop() {
      worker.postMessage("stop");
      // A worker that does not stop within a second is ended: closing must not hang.
      const timer = setTimeout(() => void worker.terminate(), 1_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
