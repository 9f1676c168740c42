// The server's work-done progress (`$/progress`), as the status bar shows it: indexing with its
// percent. vscode-languageclient shows each progress in a notification of its own and hands every
// value to the `handleWorkDoneProgress` middleware, which feeds this tracker.
// This module does not import `vscode`, so node's test runner can test it.

/** One `$/progress` value of a work-done progress (LSP `WorkDoneProgressBegin/Report/End`). */
export type ProgressValue =
  | { kind: "begin"; title: string; percentage?: number; message?: string }
  | { kind: "report"; percentage?: number; message?: string }
  | { kind: "end"; message?: string };

/** What the status bar shows of the server's progress. */
export interface ShownProgress {
  title: string;
  percent?: number;
}

/** The server's running work-done progresses, in the order they began. */
export class ProgressTracker {
  private readonly running = new Map<string, ShownProgress>();

  /** Records one value; a report or end of a token that never began is ignored. */
  update(token: string | number, value: ProgressValue): void {
    const key = String(token);
    switch (value.kind) {
      case "begin":
        this.running.set(key, { title: value.title, percent: clamp(value.percentage) });
        break;
      case "report": {
        const known = this.running.get(key);
        if (known && value.percentage !== undefined) known.percent = clamp(value.percentage);
        break;
      }
      case "end":
        this.running.delete(key);
        break;
    }
  }

  /** The progress that began first among those still running, if any. */
  current(): ShownProgress | undefined {
    const first = this.running.values().next();
    return first.done ? undefined : { ...first.value };
  }

  /** Forgets every progress (the server stopped). */
  clear(): void {
    this.running.clear();
  }
}

function clamp(percent: number | undefined): number | undefined {
  if (percent === undefined || !Number.isFinite(percent)) return undefined;
  return Math.min(100, Math.max(0, Math.round(percent)));
}
