/** Re-loads the policy when its file changes (debounced) or the process gets SIGHUP. */

import { type FSWatcher, watch } from "node:fs";
import { basename, dirname } from "node:path";

export interface PolicyWatch {
  stop(): void;
}

/**
 * Calls `reload` once the file has been quiet for `debounceMs`, and on every SIGHUP. The directory
 * is watched rather than the file, because editors replace files by rename and a file watch would
 * then go deaf.
 */
export function watchPolicy(file: string, debounceMs: number, reload: () => void): PolicyWatch {
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      reload();
    }, debounceMs);
    timer.unref();
  };
  const name = basename(file);
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(file), { persistent: false }, (_event, changed) => {
      // a policy may include an entities file beside it, so any YAML/JSON change in the folder counts
      if (changed === null || changed === name || /\.(ya?ml|json)$/.test(String(changed))) schedule();
    });
    watcher.on("error", () => watcher?.close());
  } catch {
    watcher = undefined;
  }
  const onHup = () => reload();
  process.on("SIGHUP", onHup);
  return {
    stop() {
      if (timer) clearTimeout(timer);
      watcher?.close();
      process.off("SIGHUP", onHup);
    },
  };
}
