/** Watches list files and directories and calls back once per burst of changes (debounced). */

import { type FSWatcher, watch } from "node:fs";
import { basename, dirname } from "node:path";

/** What to watch: whole directories (any file in them), or single files. */
export interface WatchTargets {
  readonly directories: readonly string[];
  readonly files: readonly string[];
}

export interface ListWatcher {
  close(): void;
}

/**
 * Files are watched through their directory, because editors and `mv`-style deploys replace a file
 * with a new inode, which a watch on the file itself would stop seeing. Watchers and timers are
 * unref'd: watching lists must never keep a process alive on its own.
 */
export function watchLists(
  targets: WatchTargets,
  debounceMs: number,
  onChange: () => void,
  onError: (message: string) => void,
): ListWatcher {
  const watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const schedule = (): void => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      if (!closed) onChange();
    }, debounceMs);
    timer.unref();
  };

  const byDirectory = new Map<string, Set<string> | "all">();
  for (const dir of targets.directories) byDirectory.set(dir, "all");
  for (const file of targets.files) {
    const dir = dirname(file);
    const existing = byDirectory.get(dir);
    if (existing === "all") continue;
    const names = existing ?? new Set<string>();
    names.add(basename(file));
    byDirectory.set(dir, names);
  }

  for (const [dir, names] of byDirectory) {
    try {
      const watcher = watch(dir, { persistent: false }, (_event, fileName) => {
        // Some platforms omit the name; then any change in the directory may be ours.
        if (names === "all" || !fileName || names.has(fileName.toString())) schedule();
      });
      watcher.on("error", (err) => onError(`stopped watching "${dir}": ${err.message}`));
      watchers.push(watcher);
    } catch (err) {
      onError(`cannot watch "${dir}": ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}
