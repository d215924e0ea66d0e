"""Callback codec: round trips, every tampering refused, stale versions told apart, 64 bytes."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.callbacks import (
    CURRENT_VERSION,
    MAX_BYTES,
    CallbackCodec,
    Decoded,
    Rejected,
    RejectReason,
)

KEY = b"k" * 32
codec = CallbackCodec(KEY)

actions = st.from_regex(r"[a-z_]{1,16}", fullmatch=True)
text_args = st.text(
    alphabet=[c for c in string.printable if c not in "|~\t\n\r\x0b\x0c"], max_size=8
)
args = st.lists(st.one_of(st.integers(min_value=-(10**9), max_value=10**12), text_args), max_size=4)


def overhead() -> int:
    """Bytes every callback data spends on version, separator and signature."""
    return len(codec.encode("a")) - 1


@given(actions, args)
def test_decode_returns_what_was_encoded(action: str, arguments: list[str | int]) -> None:
    try:
        data = codec.encode(action, *arguments)
    except ValueError:
        assert len("|".join([action, *map(str, arguments)])) + overhead() > MAX_BYTES
        return
    assert len(data.encode()) <= MAX_BYTES
    assert codec.decode(data) == Decoded(action, tuple(str(arg) for arg in arguments))


def test_int_args_read_back_as_ints() -> None:
    decoded = codec.decode(codec.encode("cosign_topic", 42, -7))
    assert isinstance(decoded, Decoded)
    assert decoded.int_arg(0) == 42
    assert decoded.int_args() == (42, -7)


def test_signature_costs_thirteen_bytes() -> None:
    data = codec.encode("vote")
    assert data.startswith(CURRENT_VERSION + "vote~")
    assert overhead() == 1 + 1 + 11


MUTATION_ALPHABET = string.ascii_letters + string.digits + "_-|~é"


def test_every_single_character_mutation_is_refused() -> None:
    data = codec.encode("cosign_topic", 1234, "BLD-07")
    mutants = set()
    for index in range(len(data)):
        mutants.add(data[:index] + data[index + 1 :])
        for char in MUTATION_ALPHABET:
            mutants.add(data[:index] + char + data[index + 1 :])
            mutants.add(data[:index] + char + data[index:])
    mutants.discard(data)
    assert len(mutants) > 3000
    for mutant in mutants:
        assert isinstance(codec.decode(mutant), Rejected), mutant


def test_a_signature_differing_only_in_padding_bits_is_refused() -> None:
    data = codec.encode("vote", 1)
    last = data[-1]
    alphabet = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
    same_upper_bits = [c for c in alphabet if alphabet.index(c) >> 2 == alphabet.index(last) >> 2]
    for char in same_upper_bits:
        if char != last:
            assert codec.decode(data[:-1] + char) == Rejected(RejectReason.FORGED)


def test_data_signed_with_another_key_is_forged() -> None:
    data = CallbackCodec(b"another key, long enough").encode("cosign_topic", 1)
    assert codec.decode(data) == Rejected(RejectReason.FORGED)


@pytest.mark.parametrize(
    "data",
    [
        "",
        "1",
        "1vote",
        "1vote~",
        "1vote~short",
        "Zvote~AAAAAAAAAAA",
        "1Vote~AAAAAAAAAAA",
        "x" * 65,
        "1" + "é" * 40,
        "\ud800",
        "cosign_topic:12",
    ],
)
def test_malformed_data_is_forged(data: str) -> None:
    assert codec.decode(data) == Rejected(RejectReason.FORGED)


def test_a_signed_payload_with_a_bad_action_is_forged() -> None:
    body = CURRENT_VERSION + "Bad"
    data = body + "~" + codec._sign(body)
    assert codec.decode(data) == Rejected(RejectReason.FORGED)


def test_buttons_of_a_retired_version_are_stale() -> None:
    old_button = codec.encode("cosign_topic", 12)
    next_codec = CallbackCodec(KEY, current="2", accepted={"2"}, retired={CURRENT_VERSION})
    assert next_codec.decode(old_button) == Rejected(RejectReason.STALE)
    assert next_codec.decode(next_codec.encode("cosign_topic", 12)) == Decoded(
        "cosign_topic", ("12",)
    )


def test_buttons_of_an_accepted_older_version_keep_working() -> None:
    old_button = codec.encode("cosign_topic", 12)
    migrating = CallbackCodec(KEY, current="2", accepted={"2", CURRENT_VERSION})
    assert migrating.decode(old_button) == Decoded("cosign_topic", ("12",))
    assert migrating.encode("cosign_topic", 12).startswith("2")


def test_changing_the_version_character_breaks_the_signature() -> None:
    migrating = CallbackCodec(KEY, current="2", accepted={"2", CURRENT_VERSION})
    old_button = codec.encode("cosign_topic", 12)
    assert migrating.decode("2" + old_button[1:]) == Rejected(RejectReason.FORGED)


def test_the_64_byte_boundary() -> None:
    room = MAX_BYTES - overhead()
    exactly = codec.encode("a", "x" * (room - 2))
    assert len(exactly.encode()) == MAX_BYTES
    assert codec.decode(exactly) == Decoded("a", ("x" * (room - 2),))
    with pytest.raises(ValueError, match="over 64"):
        codec.encode("a", "x" * (room - 1))


def test_the_longest_action_leaves_room_for_two_big_ids() -> None:
    data = codec.encode("a" * 16, 2**63 - 1, 2**31)
    assert len(data.encode()) <= MAX_BYTES


@pytest.mark.parametrize("action", ["", "Vote", "vote-topic", "a" * 17, "vote1", "vötE"])
def test_bad_actions_are_refused_at_encode(action: str) -> None:
    with pytest.raises(ValueError, match="action"):
        codec.encode(action)


@pytest.mark.parametrize("arg", ["a|b", "a~b", "é", "\n"])
def test_bad_arguments_are_refused_at_encode(arg: str) -> None:
    with pytest.raises(ValueError, match="argument"):
        codec.encode("vote", arg)


def test_bool_arguments_are_refused() -> None:
    with pytest.raises(TypeError):
        codec.encode("vote", True)


def test_empty_arguments_round_trip() -> None:
    assert codec.decode(codec.encode("vote", "")) == Decoded("vote", ("",))
    assert codec.decode(codec.encode("vote")) == Decoded("vote", ())


def test_codec_refuses_a_short_key_and_inconsistent_versions() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        CallbackCodec(b"short")
    with pytest.raises(ValueError, match="accepted"):
        CallbackCodec(KEY, current="2")
    with pytest.raises(ValueError, match="both"):
        CallbackCodec(KEY, retired={CURRENT_VERSION})
