"""jsonfast.standard_encoder keeps its C encoders for the next call: each call still writes
what json.dumps writes, a cycle is still refused after many good calls, and threads
encoding at once each get the text of their own value."""

import json
import threading

import pytest

from inspector import jsonfast


def test_a_kept_encoder_still_refuses_a_cycle_and_still_writes_shared_values():
    encode = jsonfast.standard_encoder(ensure_ascii=False)
    shared = {"x": [1, {"y": "é"}]}
    for _ in range(3):
        assert encode([shared, shared, {"z": shared}]) == json.dumps([shared, shared, {"z": shared}], ensure_ascii=False)
    circular: dict = {}
    circular["self"] = circular
    with pytest.raises(ValueError, match="Circular reference detected"):
        encode(circular)
    assert encode([shared, shared]) == json.dumps([shared, shared], ensure_ascii=False)


def test_threads_encoding_at_once_get_their_own_text():
    encode = jsonfast.standard_encoder()
    values = [{"n": i, "deep": [[{"i": i}] * 3] * 50} for i in range(8)]
    wrong: list[int] = []

    def work(i: int) -> None:
        for _ in range(300):
            if encode(values[i]) != json.dumps(values[i]):
                wrong.append(i)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []
