/**
 * A process supervisor for fault tests: runs the real API and worker entrypoints as OS processes and
 * can kill -9, pause (SIGSTOP), resume (SIGCONT), stop gracefully (SIGTERM) and restart them. Every
 * line any process ever printed is kept (across restarts) for log assertions.
 */
import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './stack.ts';

export type Role = 'api' | 'worker';

export interface Managed {
  name: string;
  role: Role;
  env: Record<string, string>;
  child: ChildProcess;
  pid: number;
  /** The API's listen address (`http://127.0.0.1:port`). */
  address?: string;
  paused: boolean;
  /** Resolves once the process reported ready over IPC. */
  readyP: Promise<void>;
  /** Resolves with the exit code or signal once the current process ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** This process's output so far. */
  output(): string;
}

interface TestLike {
  teardown(fn: () => unknown): void;
}

export class Supervisor {
  readonly procs = new Map<string, Managed>();
  private readonly baseEnv: Record<string, string>;
  private allOutput = '';
  private seq = 0;

  constructor(t: TestLike | null, baseEnv: Record<string, string>) {
    this.baseEnv = baseEnv;
    t?.teardown(() => this.stopAll());
  }

  /** Everything every process printed, restarts included. */
  output(): string {
    return this.allOutput;
  }

  /** Starts a process and resolves once it reports ready over IPC (`waitReady: false`: at once). */
  async start(
    role: Role,
    opts: { name?: string; env?: Record<string, string>; waitReady?: boolean; readyTimeoutMs?: number } = {},
  ): Promise<Managed> {
    const name = opts.name ?? `${role}-${++this.seq}`;
    const env = { ...this.baseEnv, ...opts.env };
    const child = fork(path.join(ROOT, 'packages', role, 'src', 'main.ts'), [], {
      env: { ...process.env, LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let out = '';
    const onData = (d: Buffer) => {
      const s = d.toString('utf8');
      out += s;
      this.allOutput += s;
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const m = {
      name,
      role,
      env,
      child,
      pid: child.pid as number,
      paused: false,
      exited,
      output: () => out,
    } as Managed;
    m.readyP = new Promise<void>((resolve, reject) => {
      child.on('message', (msg: { type?: string; address?: string }) => {
        if (msg?.type !== 'ready') return;
        if (msg.address) m.address = msg.address;
        resolve();
      });
      void exited.then(({ code, signal }) =>
        reject(new Error(`${name} exited (${code ?? signal}) before it was ready:\n${out.slice(-4000)}`)),
      );
    });
    m.readyP.catch(() => {});
    this.procs.set(name, m);
    if (opts.waitReady === false) return m;
    await this.ready(name, opts.readyTimeoutMs);
    return m;
  }

  /** Resolves once the process reports ready (for one started with `waitReady: false`). */
  async ready(name: string, timeoutMs = 60_000): Promise<Managed> {
    const m = this.get(name);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${name} not ready:\n${m.output().slice(-4000)}`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([m.readyP, timeout]);
    } finally {
      clearTimeout(timer);
    }
    return m;
  }

  get(name: string): Managed {
    const m = this.procs.get(name);
    if (!m) throw new Error(`no process named ${name}`);
    return m;
  }

  alive(name: string): boolean {
    const c = this.get(name).child;
    return c.exitCode === null && c.signalCode === null;
  }

  /** `kill -9`: no handler runs, no connection is closed politely. */
  async kill9(name: string): Promise<void> {
    const m = this.get(name);
    if (!this.alive(name)) return;
    m.child.kill('SIGKILL');
    await m.exited;
    m.paused = false;
  }

  /** SIGSTOP: the process keeps its sockets and its jobs but runs nothing. */
  pause(name: string): void {
    this.get(name).child.kill('SIGSTOP');
    this.get(name).paused = true;
  }

  resume(name: string): void {
    this.get(name).child.kill('SIGCONT');
    this.get(name).paused = false;
  }

  /** SIGTERM: the graceful stop path; resolves with how the process ended. */
  async term(name: string): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const m = this.get(name);
    if (!this.alive(name)) return m.exited;
    m.child.kill('SIGTERM');
    return m.exited;
  }

  /** Starts the same role again under the same name with the same environment. */
  async restart(name: string, opts: { waitReady?: boolean } = {}): Promise<Managed> {
    const old = this.get(name);
    if (this.alive(name)) await this.kill9(name);
    return this.start(old.role, { name, env: old.env, ...opts });
  }

  async stopAll(): Promise<void> {
    await Promise.all(
      [...this.procs.values()].map(async (m) => {
        if (m.child.exitCode !== null || m.child.signalCode !== null) return;
        if (m.paused) m.child.kill('SIGCONT');
        m.child.kill('SIGTERM');
        const timer = setTimeout(() => m.child.kill('SIGKILL'), 8000);
        await m.exited;
        clearTimeout(timer);
      }),
    );
  }
}
