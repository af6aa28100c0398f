from kseal.errors import AlreadyEncryptedError, KeyRetrievalError, KsealError, MacError


def test_exit_codes_follow_sops_table() -> None:
    assert MacError("x").exit_code == 51
    assert KeyRetrievalError("x").exit_code == 128
    assert AlreadyEncryptedError("x").exit_code == 203


def test_message_and_hints() -> None:
    err = KsealError("bad thing", hints=["do this"], exit_code=7)
    assert str(err) == "bad thing"
    assert err.hints == ("do this",)
    assert err.exit_code == 7
