// Time for the pieces that wait (typing, presence, the chat store's expiries), injectable so their
// tests can move the clock by hand.

/** Runs `run` after `ms` and returns a cancel. */
export type SetTimer = (run: () => void, ms: number) => () => void;

/** setTimeout, as a SetTimer. */
export const realTimer: SetTimer = (run, ms) => {
  const timer = setTimeout(run, ms);
  return () => clearTimeout(timer);
};
