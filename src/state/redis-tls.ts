/**
 * TLS material for the connections of a Redis state URL with TLS (`rediss://`, `rediss+sentinel://`,
 * `rediss+cluster://`): `?tls_ca=FILE` names the PEM certificates to trust instead of the system's
 * (a private CA, as self-hosted Redis usually has), and `?tls_cert=FILE&tls_key=FILE` a client
 * certificate and its key, for a Redis that authenticates its clients (`tls-auth-clients yes`, the
 * default of `redis-server`). The files are read once, when the store opens; a relative path is
 * taken from the working directory. `?tls_servername=NAME` is the name a server's certificate is
 * checked against (and sent as SNI) instead of the address dialled: for servers reached by address
 * (as a Cluster announces its nodes) whose certificates name a host. Server names are always
 * verified: there is no option to turn that off.
 */

import { readFileSync } from "node:fs";
import { SignalboxError } from "../errors/signalbox-error.js";

export interface RedisTls {
  /** PEM: the certificates to trust. */
  readonly ca?: string;
  /** PEM: the client certificate (with any intermediates). */
  readonly cert?: string;
  /** PEM: the client certificate's private key. */
  readonly key?: string;
  /** The name every server's certificate must carry (also sent as SNI), instead of the address dialled. */
  readonly servername?: string;
}

export const TLS_PARAMS = ["tls_ca", "tls_cert", "tls_key", "tls_servername"] as const;

/** What is wrong with a state URL's TLS parameters before any file is read; undefined when nothing is. */
export function tlsParamProblem(scheme: string, params: URLSearchParams): string | undefined {
  const given = TLS_PARAMS.filter((name) => params.has(name));
  if (given.length === 0) return undefined;
  if (!scheme.startsWith("rediss")) {
    return `${given.join(", ")} ${given.length === 1 ? "needs" : "need"} TLS: use rediss://, rediss+sentinel:// or rediss+cluster://`;
  }
  for (const name of given) {
    if (params.get(name) === "") return `${name} names no ${name === "tls_servername" ? "host" : "file"}`;
  }
  const servername = params.get("tls_servername");
  if (servername !== null && !/^[A-Za-z0-9.-]+$/.test(servername)) {
    return `tls_servername '${servername}' is not a host name`;
  }
  if (params.has("tls_cert") !== params.has("tls_key")) return "tls_cert and tls_key go together";
  return undefined;
}

/** Reads the files a state URL's TLS parameters name; undefined when it has none. `shown` is the URL as errors give it. */
export function readTls(scheme: string, params: URLSearchParams, shown: string): RedisTls | undefined {
  const problem = tlsParamProblem(scheme, params);
  if (problem !== undefined) throw new SignalboxError("CONFIG_INVALID", `state URL '${shown}': ${problem}`);
  const read = (name: "tls_ca" | "tls_cert" | "tls_key"): string | undefined => {
    const file = params.get(name);
    if (file === null) return undefined;
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new SignalboxError("CONFIG_INVALID", `${name} '${file}' in state URL '${shown}' cannot be read (${why})`);
    }
    if (!/-----BEGIN [A-Z0-9 ]+-----/.test(text)) {
      throw new SignalboxError("CONFIG_INVALID", `${name} '${file}' in state URL '${shown}' is not a PEM file`);
    }
    return text;
  };
  const ca = read("tls_ca");
  const cert = read("tls_cert");
  const key = read("tls_key");
  const servername = params.get("tls_servername") ?? undefined;
  if (ca === undefined && cert === undefined && servername === undefined) return undefined;
  return {
    ...(ca !== undefined ? { ca } : {}),
    ...(cert !== undefined ? { cert } : {}),
    ...(key !== undefined ? { key } : {}),
    ...(servername !== undefined ? { servername } : {}),
  };
}
