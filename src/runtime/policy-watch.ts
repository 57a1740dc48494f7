/** Re-loads the policies when their files change (debounced) or the process gets SIGHUP. */

import { type FSWatcher, watch } from "node:fs";
import { basename, dirname } from "node:path";

export interface PolicyWatch {
  stop(): void;
}

/**
 * Calls `reload` once the files have been quiet for `debounceMs`, and on every SIGHUP. Directories
 * are watched rather than files, because editors replace files by rename and a file watch would
 * then go deaf. The active and the shadow policy share one watch, so a change to either (or both at
 * once) makes one reload.
 */
export function watchPolicy(files: string | readonly string[], debounceMs: number, reload: () => void): PolicyWatch {
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      reload();
    }, debounceMs);
    timer.unref();
  };
  const byDirectory = new Map<string, Set<string>>();
  for (const file of typeof files === "string" ? [files] : files) {
    const names = byDirectory.get(dirname(file)) ?? new Set<string>();
    names.add(basename(file));
    byDirectory.set(dirname(file), names);
  }
  const watchers: FSWatcher[] = [];
  for (const [directory, names] of byDirectory) {
    try {
      const watcher = watch(directory, { persistent: false }, (_event, changed) => {
        // a policy may include an entities file beside it, so any YAML/JSON change in the folder counts
        if (changed === null || names.has(String(changed)) || /\.(ya?ml|json)$/.test(String(changed))) schedule();
      });
      watcher.on("error", () => watcher.close());
      watchers.push(watcher);
    } catch {
      // an unwatchable directory still reloads on SIGHUP
    }
  }
  const onHup = () => reload();
  process.on("SIGHUP", onHup);
  return {
    stop() {
      if (timer) clearTimeout(timer);
      for (const w of watchers) w.close();
      process.off("SIGHUP", onHup);
    },
  };
}
