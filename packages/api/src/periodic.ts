// Background jobs of a running server (event log retention, the file sweep): run once shortly after
// start, then every interval, without keeping the process alive; stop() cancels both.

export interface Periodic {
  stop(): void;
}

export function startPeriodic(run: () => void, schedule: { firstAfterMs: number; everyMs: number }): Periodic {
  const first = setTimeout(run, schedule.firstAfterMs);
  const every = setInterval(run, schedule.everyMs);
  first.unref();
  every.unref();
  return {
    stop() {
      clearTimeout(first);
      clearInterval(every);
    },
  };
}
