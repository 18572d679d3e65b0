// Time as the services see it: tests hand in a clock they move by hand. Its own module, since
// everything from tokens to limiters needs it and none of them should import the service container.
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
