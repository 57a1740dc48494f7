/**
 * A private PostgreSQL server that accepts only TLS connections, for tests: `initdb` into a
 * directory of the test's, then `postgres` on a free loopback port with the test CA's server
 * certificate, and a `pg_hba.conf` that trusts `hostssl` connections from 127.0.0.1 and rejects
 * every other one. PostgreSQL refuses to run as root, so on a machine where the tests run as root
 * the server runs as the `postgres` user (`setpriv`, which runs it in place, so signals reach it), which
 * then owns the directory.
 */

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freePort } from "../scaleout/redis-process.js";
import type { TestCertificates } from "./tls-certs.js";

/** Where Debian keeps the server binaries (`/usr/lib/postgresql/<version>/bin`), newest first; undefined when none. */
export function postgresBinaries(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], "bin");
}

export class PostgresTlsServer {
  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
  ) {}

  /** Starts the server with its data and certificate copies in `dir`; resolves once it accepts a TLS connection. */
  static async start(dir: string, certs: TestCertificates, bin: string): Promise<PostgresTlsServer> {
    const asRoot = userInfo().uid === 0;
    const owner = asRoot ? Number(execFileSync("id", ["-u", "postgres"]).toString()) : userInfo().uid;
    const group = asRoot ? Number(execFileSync("id", ["-g", "postgres"]).toString()) : userInfo().gid;
    const home = join(dir, "postgres");
    mkdirSync(home);
    // The server reads its key only when the server's user owns it and no one else may read it.
    const key = join(home, "server.key");
    const cert = join(home, "server.pem");
    const ca = join(home, "ca.pem");
    copyFileSync(certs.serverKey, key);
    copyFileSync(certs.serverCert, cert);
    copyFileSync(certs.ca, ca);
    chmodSync(key, 0o600);
    for (const path of [dir, home, key, cert, ca]) if (asRoot) chownSync(path, owner, group);
    const data = join(home, "data");
    const as = (command: string, args: readonly string[]) =>
      asRoot
        ? ([
            "setpriv",
            ["--reuid", "postgres", "--regid", "postgres", "--init-groups", "--", command, ...args],
          ] as const)
        : ([command, args] as const);
    const [initCommand, initArgs] = as(join(bin, "initdb"), ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync"]);
    execFileSync(initCommand, [...initArgs], { stdio: "pipe" });
    writeFileSync(
      join(data, "pg_hba.conf"),
      ["local all all trust", "hostssl all all 127.0.0.1/32 trust", "hostnossl all all 127.0.0.1/32 reject", ""].join(
        "\n",
      ),
    );
    const port = await freePort();
    const [command, args] = as(join(bin, "postgres"), [
      "-D",
      data,
      "-p",
      String(port),
      "-k",
      home,
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "ssl=on",
      "-c",
      `ssl_cert_file=${cert}`,
      "-c",
      `ssl_key_file=${key}`,
      "-c",
      `ssl_ca_file=${ca}`,
      "-c",
      "fsync=off",
    ]);
    const child = spawn(command, [...args], { stdio: "ignore" });
    const server = new PostgresTlsServer(port, child);
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`postgres on port ${port} exited with ${child.exitCode}`);
      const client = new pg.Client({ connectionString: server.url(certs.ca), connectionTimeoutMillis: 1000 });
      try {
        await client.connect();
        await client.query("SELECT 1");
        return server;
      } catch (err) {
        if (Date.now() > deadline) {
          await server.stop();
          throw new Error(`postgres on port ${port} did not accept a TLS connection: ${(err as Error).message}`);
        }
      } finally {
        await client.end().catch(() => {});
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** A connection URL for the `postgres` database, verifying the server against `ca` (or, without one, as given). */
  url(ca?: string, extra = ""): string {
    const tls = ca === undefined ? "" : `sslmode=verify-full&sslrootcert=${encodeURIComponent(ca)}`;
    const query = [tls, extra].filter((part) => part !== "").join("&");
    return `postgresql://postgres@127.0.0.1:${this.port}/postgres${query === "" ? "" : `?${query}`}`;
  }

  /** Stops the server (SIGINT: fast shutdown) and resolves once it is gone. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGINT");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await gone;
    clearTimeout(timer);
  }
}
