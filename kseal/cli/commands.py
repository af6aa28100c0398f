"""The table of kseal's commands: name -> (module that declares it, one-line summary).

The root command lists these in ``kseal --help`` and loads a command's module only when that
command runs, so start-up imports one command module, not all of them. A test checks this table
against the commands the modules declare.
"""

from __future__ import annotations

COMMANDS: dict[str, tuple[str, str]] = {
    "encrypt": ("kseal.cli.sops_cmds", "Encrypt FILE for age recipients, like 'sops encrypt'."),
    "decrypt": (
        "kseal.cli.sops_cmds",
        "Decrypt FILE with your age identities, like 'sops decrypt'.",
    ),
    "edit": ("kseal.cli.edit", "Edit an encrypted FILE in $SOPS_EDITOR/$EDITOR, like 'sops edit'."),
    "diff": (
        "kseal.cli.diff",
        "Show decrypted changes between two files, values redacted (exit 1 if they differ).",
    ),
    "git-setup": (
        "kseal.cli.diff",
        "Make 'git diff' show encrypted files decrypted (values redacted) in this repository.",
    ),
    "exec-env": (
        "kseal.cli.run_cmds",
        "Run COMMAND with FILE's decrypted values as environment variables, like 'sops exec-env'.",
    ),
    "exec-file": (
        "kseal.cli.run_cmds",
        "Run COMMAND with {} replaced by the path of FILE decrypted, like 'sops exec-file'.",
    ),
    "check": (
        "kseal.cli.check",
        "Find plaintext secrets and private keys before they reach Git (exit 1 on findings).",
    ),
    "rotate": (
        "kseal.cli.rotate",
        "Give FILE a new data key (re-encrypting every value), like 'sops rotate'.",
    ),
    "updatekeys": (
        "kseal.cli.rotate",
        "Re-wrap FILE's data key for the recipients .sops.yaml names now, like 'sops updatekeys'.",
    ),
    "set": (
        "kseal.cli.tree_cmds",
        "Set one value of FILE in place, like 'sops set'; unchanged values keep their ciphertext.",
    ),
    "unset": (
        "kseal.cli.tree_cmds",
        "Remove one key or list item from FILE in place, like 'sops unset'.",
    ),
    "filestatus": (
        "kseal.cli.tree_cmds",
        'Print {"encrypted":true} or {"encrypted":false} for FILE, like \'sops filestatus\'.',
    ),
    "keygen": (
        "kseal.cli.keygen",
        "Generate an age identity, like age-keygen; the public key goes to stderr.",
    ),
    "seal": ("kseal.cli.seal", "Seal Kubernetes Secrets into SealedSecrets, like kubeseal."),
    "unseal": (
        "kseal.cli.unseal",
        "Decrypt SealedSecrets offline with the controller's private keys (recovery).",
    ),
    "cert": (
        "kseal.cli.cert",
        "Print the sealing certificate (from a file, a URL or the controller) with its "
        "fingerprint and expiry.",
    ),
    "reseal": (
        "kseal.cli.reseal",
        "Re-encrypt SealedSecrets for a new certificate, offline, keeping every scope.",
    ),
    "bootstrap": (
        "kseal.cli.bootstrap",
        "Decrypt SOPS-encrypted Secrets in memory and apply them to the cluster, all or nothing.",
    ),
    "keys": (
        "kseal.cli.keys",
        "Sealing keys you own, and the controller's keys: backup, restore, list.",
    ),
}

# Commands that decrypt a file: sops checks SOPS_DECRYPTION_ORDER for them.
DECRYPTING = frozenset(
    {"decrypt", "edit", "exec-env", "exec-file", "rotate", "set", "unset", "diff", "bootstrap"}
)

# Options of the kseal command itself, accepted anywhere before ``--`` (sops takes them before
# the command only; kseal also takes them after it).
GLOBAL_FLAGS = ("--debug", "--verbose", "--disable-version-check")
GLOBAL_WITH_VALUE = ("--decryption-order",)
