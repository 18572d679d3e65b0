// A running target with its clients connected: what one scenario steps the load on. After a step
// the server could not drain, the session restarts the target so the next step starts clean.
import { LoadGenerator, type LoadPlan, type StepOptions, type StepResult } from "./load.js";
import { machineBusyCpuSeconds, servicesCpuSeconds } from "./processes.js";
import type { Deployment, Target } from "./targets.js";

/** Other processes using more than this many cores disturb a measurement. */
export const QUIET_OTHER_CPU = 0.25;

export interface SessionOptions {
  target: Target;
  /** May refresh tokens through the deployment first (a connection lives no longer than its token). */
  plan: (deployment: Deployment) => Promise<LoadPlan>;
  connectConcurrency?: number;
  profileDir?: string;
  /**
   * A short unmeasured step after connecting: the first messages through a fresh process pay for
   * JIT compilation and cold caches, which is not what a step should measure.
   */
  warmUp?: { rate: number; ms: number };
}

export class Session {
  private constructor(
    private readonly options: SessionOptions,
    public deployment: Deployment,
    private generator: LoadGenerator,
  ) {}

  static async open(options: SessionOptions): Promise<Session> {
    const deployment = await options.target.start(options.profileDir ? { profileDir: options.profileDir } : {});
    try {
      return new Session(options, deployment, await connected(options, deployment));
    } catch (error) {
      await deployment.stop();
      throw error;
    }
  }

  get label(): string {
    return this.options.target.label;
  }

  /**
   * Waits (at most `maxMs`) until the rest of the machine uses less than `threshold` cores: on a
   * shared machine, a step started during someone else's build measures the build.
   */
  async waitForQuiet(threshold = QUIET_OTHER_CPU, maxMs = 10_000): Promise<number> {
    const deadline = performance.now() + maxMs;
    let other = Infinity;
    while (performance.now() < deadline) {
      const machine = machineBusyCpuSeconds() - servicesCpuSeconds();
      const server = this.deployment.probe().cpuSeconds;
      const own = process.cpuUsage();
      const started = performance.now();
      await new Promise((resolve) => setTimeout(resolve, 500));
      const seconds = (performance.now() - started) / 1000;
      const ownUsed = process.cpuUsage(own);
      other = (machineBusyCpuSeconds() - servicesCpuSeconds() - machine - (this.deployment.probe().cpuSeconds - server) - (ownUsed.user + ownUsed.system) / 1e6) / seconds;
      if (other < threshold) break;
    }
    return other;
  }

  step(options: Omit<StepOptions, "probe">): Promise<StepResult> {
    return this.generator.runStep({ ...options, probe: () => this.deployment.probe() });
  }

  /** See LoadGenerator.call: another mutation on one client's socket. */
  call(client: number, path: string, input: unknown, onAnswer?: () => void): boolean {
    return this.generator.call(client, path, input, onAnswer);
  }

  /** Server log lines at warn or above, from every instance. */
  serverErrors(): string[] {
    return this.deployment.processes.flatMap((p) => p.errorLines);
  }

  async restart(): Promise<void> {
    await this.generator.close();
    await this.deployment.stop();
    this.deployment = await this.options.target.start();
    this.generator = await connected(this.options, this.deployment);
  }

  /** Closes the clients, then stops the target; resolves with when it exited (performance.now). */
  async close(): Promise<number> {
    await this.generator.close();
    return this.deployment.stop();
  }
}

async function connected(options: SessionOptions, deployment: Deployment): Promise<LoadGenerator> {
  const generator = new LoadGenerator(await options.plan(deployment));
  try {
    await generator.connect({ concurrency: options.connectConcurrency ?? 100 });
    if (options.warmUp) {
      const { rate, ms } = options.warmUp;
      await generator.runStep({ rate, warmupMs: 0, measureMs: ms, drainMs: 10_000, probe: () => deployment.probe() });
    }
    return generator;
  } catch (error) {
    await generator.close();
    throw error;
  }
}
