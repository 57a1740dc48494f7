/**
 * A private certificate authority for tests, made with the `openssl` command line tool: a CA, a
 * server certificate for 127.0.0.1 and localhost, and a client certificate, all signed by the CA
 * (P-256 keys, valid two days), plus a second CA that signed none of them, each as a PEM file in
 * a directory of the test's. What a self-hosted Redis with TLS usually runs on.
 */

import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export interface TestCertificates {
  /** The CA's certificate: what a client trusts. */
  readonly ca: string;
  /** A CA that signed nothing here: trusting it instead must fail. */
  readonly otherCa: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
}

/** Whether `openssl` can be run here. */
export function opensslInstalled(): boolean {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function openssl(args: readonly string[]): void {
  execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
}

const KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

function makeCa(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  openssl(["req", "-x509", ...KEY, "-keyout", key, "-out", cert, "-days", "2", "-subj", `/CN=Signalbox test ${name}`]);
  return { cert, key };
}

function makeLeaf(dir: string, name: string, ca: { cert: string; key: string }, extensions: string): string[] {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  const request = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, extensions);
  openssl(["req", ...KEY, "-keyout", key, "-out", request, "-subj", `/CN=signalbox-test-${name}`]);
  openssl([
    "x509",
    "-req",
    "-in",
    request,
    "-CA",
    ca.cert,
    "-CAkey",
    ca.key,
    "-CAcreateserial",
    "-out",
    cert,
    "-days",
    "2",
    "-extfile",
    ext,
  ]);
  return [cert, key];
}

/** Makes the certificates in `dir`. Throws with openssl's message when it fails. */
export function makeCertificates(dir: string): TestCertificates {
  const ca = makeCa(dir, "ca");
  const other = makeCa(dir, "other-ca");
  const [serverCert, serverKey] = makeLeaf(
    dir,
    "server",
    ca,
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n",
  );
  const [clientCert, clientKey] = makeLeaf(dir, "client", ca, "extendedKeyUsage=clientAuth\n");
  return {
    ca: ca.cert,
    otherCa: other.cert,
    serverCert: serverCert as string,
    serverKey: serverKey as string,
    clientCert: clientCert as string,
    clientKey: clientKey as string,
  };
}
