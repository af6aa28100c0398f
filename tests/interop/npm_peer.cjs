// Drives the third-party sealed-format implementations from npm for kseal's interop tests.
// Reads one JSON request on stdin, prints one JSON answer on stdout.
const crypto = require("crypto");
const socialgouv = require("@socialgouv/aes-gcm-rsa-oaep");
const linode = require("@linode/kubeseal-encrypt");

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const req = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  let out;
  if (req.op === "socialgouv-value") {
    out = await socialgouv.encryptValue({ pemKey: req.cert, scope: req.scope, namespace: req.namespace, name: req.name, value: req.value });
  } else if (req.op === "socialgouv-manifest") {
    out = await socialgouv.getSealedSecret({ pemKey: req.cert, scope: req.scope, namespace: req.namespace, name: req.name, values: req.values });
  } else if (req.op === "linode-value") {
    out = await linode.encryptSecretItem(req.spki, req.namespace, req.value);
  } else if (req.op === "socialgouv-decrypt") {
    const der = crypto.createPrivateKey(req.key).export({ type: "pkcs8", format: "der" });
    const key = await crypto.webcrypto.subtle.importKey("pkcs8", der, { name: "RSA-OAEP", hash: "SHA-256" }, false, ["decrypt"]);
    const blob = Buffer.from(req.blob, "base64");
    const buf = blob.buffer.slice(blob.byteOffset, blob.byteOffset + blob.byteLength);
    out = await socialgouv.HybridDecrypt(key, buf, Buffer.from(req.label, "utf8"));
  } else {
    throw new Error("unknown op " + req.op);
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); });
