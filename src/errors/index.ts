export * from "./codes.js";
export * from "./signalbox-error.js";
