import { type FSWatcher, watch } from 'node:fs';
import type { PolicySnapshot } from '../model/policy.js';
import { type ConfigIssue, formatIssue } from './config-issue.js';
import { type BuildResult, buildSnapshot } from './compile-policies.js';
import type { CompileOptions } from './dialects/types.js';

export interface PolicyStoreEvents {
  /** Called with the new snapshot before it becomes current (prefetch keys here; bounded by the callee). */
  readonly beforeSwap: (next: PolicySnapshot) => Promise<void>;
  readonly onReload: (result: 'success' | 'failure' | 'unchanged', issues: readonly ConfigIssue[], snapshot: PolicySnapshot | undefined) => void;
}

/**
 * Holds the current snapshot; builds the next off the request path and swaps it in one assignment.
 * A broken reload keeps the last good snapshot serving.
 */
export class PolicyStore {
  private snapshot: PolicySnapshot | undefined;
  private lastError: string[] = [];
  private lastReloadAt: Date | undefined;
  private watcher: FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private reloading: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly path: string,
    private readonly options: CompileOptions,
    private readonly events: PolicyStoreEvents,
  ) {}

  /** The snapshot requests use; read it once per request. */
  current(): PolicySnapshot | undefined {
    return this.snapshot;
  }

  /** Errors of the last failed reload (formatted), empty after a success. */
  lastErrors(): readonly string[] {
    return this.lastError;
  }

  lastReload(): Date | undefined {
    return this.lastReloadAt;
  }

  /** First load: the result decides whether the service may start at all. */
  async load(): Promise<BuildResult> {
    const r = buildSnapshot(this.path, this.options);
    if (r.ok) {
      await this.events.beforeSwap(r.snapshot);
      this.snapshot = r.snapshot;
    }
    return r;
  }

  /** Rebuilds from disk; on any error keeps serving the last good snapshot. Calls made during a reload coalesce. */
  reload(): Promise<void> {
    if (this.reloading !== undefined) {
      this.again = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      do {
        this.again = false;
        await this.reloadOnce();
      } while (this.again);
    })().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  private async reloadOnce(): Promise<void> {
    this.lastReloadAt = new Date();
    let r: BuildResult | 'unchanged';
    try {
      r = buildSnapshot(this.path, this.options, this.lastError.length === 0 ? this.snapshot?.digest : undefined);
    } catch (err) {
      r = { ok: false, issues: [{ file: this.path, document: 0, path: '', message: `reload failed: ${String(err)}`, severity: 'error' }] };
    }
    if (r === 'unchanged') {
      this.events.onReload('unchanged', [], this.snapshot);
      return;
    }
    if (!r.ok) {
      this.lastError = r.issues.filter((i) => i.severity === 'error').map(formatIssue);
      this.events.onReload('failure', r.issues, this.snapshot);
      return;
    }
    this.lastError = [];
    if (r.snapshot.digest === this.snapshot?.digest) {
      this.events.onReload('unchanged', r.warnings, this.snapshot);
      return;
    }
    await this.events.beforeSwap(r.snapshot);
    this.snapshot = r.snapshot; // the swap: one assignment; in-flight requests keep the snapshot they read
    this.events.onReload('success', r.warnings, r.snapshot);
  }

  /**
   * Watches the policies path (debounced 500 ms) and polls the content digest every `pollMs` as a fallback:
   * Kubernetes ConfigMap volumes change by swapping a `..data` symlink, which file watchers can miss.
   */
  watch(pollMs = 5000): void {
    const schedule = (): void => {
      clearTimeout(this.debounce);
      this.debounce = setTimeout(() => void this.reload(), 500);
      this.debounce.unref();
    };
    try {
      this.watcher = watch(this.path, { recursive: true, persistent: false }, schedule);
      this.watcher.on('error', () => undefined);
    } catch {
      this.watcher = undefined; // polling still covers it
    }
    this.poll = setInterval(() => void this.reload(), pollMs);
    this.poll.unref();
  }

  close(): void {
    this.watcher?.close();
    clearInterval(this.poll);
    clearTimeout(this.debounce);
  }
}
