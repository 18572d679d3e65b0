// Password hashing must not slow message delivery down.
//
// argon2 runs on libuv's threadpool, and each hash is tens of milliseconds of CPU. On a machine
// with fewer free cores than hashes in flight (or a server pinned to one core), a burst of logins
// would take the CPU from the event loop at equal priority, and every live message would wait.
// On Linux each thread has its own nice value: every thread of the process but the event loop's
// (libuv's threadpool, V8's helper threads) is given a lower priority here. They still get every
// idle cycle; when the event loop has work, it comes first. Threads started later inherit the
// priority of the thread that starts them, the event loop's.
import { readdirSync } from "node:fs";
import { stat } from "node:fs/promises";
import { setPriority } from "node:os";

/** Helper threads get about a tenth of a busy core (CFS weights 1024 : 110). */
export const HELPER_THREAD_NICENESS = 10;

export interface PriorityResult {
  /** Threads given the lower priority. */
  lowered: number;
  /** Why nothing was done, when nothing was. */
  skipped?: string;
}

export async function lowerHelperThreadPriority(niceness = HELPER_THREAD_NICENESS): Promise<PriorityResult> {
  if (process.platform !== "linux") return { lowered: 0, skipped: "not Linux" };
  // libuv starts all of its threadpool's threads on the first request it gets (usually long done
  // by now: loading ES modules reads files through it).
  await stat("/");
  let threads: string[];
  try {
    threads = readdirSync("/proc/self/task");
  } catch {
    return { lowered: 0, skipped: "no /proc/self/task" };
  }
  let lowered = 0;
  for (const tid of threads) {
    // The main thread's id is the process id.
    if (Number(tid) === process.pid) continue;
    try {
      setPriority(Number(tid), niceness);
      lowered += 1;
    } catch {
      // Not allowed (e.g. already running at a lower priority): leave the thread as it is.
    }
  }
  return lowered > 0 ? { lowered } : { lowered, skipped: "no thread could be changed" };
}
