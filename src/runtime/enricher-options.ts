/** Turns the service configuration into the database enricher's options: the lists, watching, and reload logging. */

import type { Logger } from "pino";
import type { NetworkListConfig } from "../config/serve-config.js";
import type { DatabaseEnricherOptions } from "../enrich/database-enricher.js";
import type { ListReport } from "../enrich/network-lists.js";
import { formatProblem } from "../errors/signalbox-error.js";

/**
 * Logs a list load: the lists in force at info, every skipped line or unreadable file as a warning
 * (a reload with problems keeps serving, so a warning is all an operator gets).
 */
export function logListReport(report: ListReport, log: Logger | undefined, what: string): void {
  if (report.problems.length > 0) {
    log?.warn(
      { problems: report.problems.map(formatProblem), lists: report.lists },
      `${what}: some list lines or files were skipped`,
    );
  } else {
    log?.info({ lists: report.lists }, what);
  }
}

export function enricherOptionsOf(
  lists: NetworkListConfig,
  options: { readonly watch: boolean; readonly logger?: Logger },
): DatabaseEnricherOptions {
  return {
    hostingAsnsFile: lists.hostingAsnsFile,
    anonymizersFile: lists.anonymizersFile,
    ...(lists.reputationDir !== false ? { reputationDir: lists.reputationDir } : {}),
    watch: options.watch,
    onReload: (report) => logListReport(report, options.logger, "network lists reloaded"),
  };
}
