export * from "./band.js";
export * from "./control-path.js";
export * from "./decision.js";
export * from "./finding.js";
export * from "./outcome.js";
export * from "./request.js";
