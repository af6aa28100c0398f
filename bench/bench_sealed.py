"""Sealing and unsealing 1,000 values, against the cost of the raw RSA operations (same run).

Each sealed value needs one RSA-OAEP public-key operation to seal and one private-key operation to
unseal: that is the physical limit, measured here directly with `cryptography`. Also: unsealing
with 5 candidate keys, with and without the fingerprint hint, to show the hint avoids the 5x.

    python3 bench/bench_sealed.py [--values N] [--bits 4096]
"""

from __future__ import annotations

import argparse
import base64
import os
import time
from datetime import UTC, datetime

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from kseal import keys, sealed, secret


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--values", type=int, default=1000)
    parser.add_argument("--bits", type=int, default=4096)
    args = parser.parse_args()
    n = args.values
    pairs = [keys.generate(datetime.now(UTC), bits=args.bits) for _ in range(5)]
    privs = [keys.load_private_key_pem(p, "bench") for p, _ in pairs]
    certs = [keys.load_certificate(c) for _, c in pairs]
    target_cert, target_key = certs[2], privs[2]
    oaep = padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), b"ns/name")
    session = os.urandom(32)
    wrapped = target_cert.public_key.encrypt(session, oaep)
    raw_pub = timed(lambda: [target_cert.public_key.encrypt(session, oaep) for _ in range(n)])
    raw_priv = timed(lambda: [target_key.decrypt(wrapped, oaep) for _ in range(n)])

    src = {
        "kind": "Secret",
        "metadata": {"name": "name", "namespace": "ns"},
        "stringData": {f"k{i}": f"value-{i}-" + "x" * 40 for i in range(n)},
    }
    sealed_doc: dict = {}

    def do_seal() -> None:
        sealed_doc.update(
            secret.seal_secret(src, target_cert.public_key, key_fingerprint=target_cert.fingerprint)
        )

    t_seal = timed(do_seal)
    t_unseal_one = timed(lambda: secret.unseal_sealed_secret(sealed_doc, [target_key]))
    t_unseal_hint = timed(lambda: secret.unseal_sealed_secret(sealed_doc, privs))
    no_hint = {
        **sealed_doc,
        "metadata": {k: v for k, v in sealed_doc["metadata"].items() if k != "annotations"},
    }
    t_unseal_nohint = timed(lambda: secret.unseal_sealed_secret(no_hint, privs))
    # The naive approach: every value tries keys in a fixed order until one works (no reuse, no hint).
    blobs = [base64.b64decode(v) for v in sealed_doc["spec"]["encryptedData"].values()]
    t_naive = timed(lambda: [sealed.unseal(privs, b, b"ns/name") for b in blobs])

    print(f"{n} values, RSA-{args.bits}, 5 candidate keys (the right one is 3rd)")
    print(f"{'operation':44} {'seconds':>8} {'vs raw RSA':>10}")
    rows = [
        ("raw RSA-OAEP encrypt x N (limit for seal)", raw_pub, raw_pub),
        ("kseal seal N values", t_seal, raw_pub),
        ("raw RSA-OAEP decrypt x N (limit for unseal)", raw_priv, raw_priv),
        ("kseal unseal, 1 key", t_unseal_one, raw_priv),
        ("kseal unseal, 5 keys, fingerprint hint", t_unseal_hint, raw_priv),
        ("kseal unseal, 5 keys, no hint (key reuse)", t_unseal_nohint, raw_priv),
        ("naive: try every key for every value", t_naive, raw_priv),
    ]
    for name, t, base in rows:
        print(f"{name:44} {t:8.3f} {t / base:9.2f}x")
    ok = t_unseal_hint < 1.5 * raw_priv
    print(
        f"\n5 keys with the hint cost {t_unseal_hint / t_unseal_one:.2f}x one key: {'PASS' if ok else 'FAIL'} (must not be ~5x)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
