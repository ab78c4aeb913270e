"""The result store: what is put is got back, renderings live and die with their result."""

from tlprobe_server import keys, result_store


def test_put_get_ttl_delete(redis):
    assert result_store.get(redis, "lc-x") is None and not result_store.exists(redis, "lc-x")
    assert result_store.ttl(redis, "lc-x") is None
    result_store.put(redis, "lc-x", '{"kind": "learning_curve", "alphas": [1.0]}', ttl=100)
    assert result_store.get(redis, "lc-x") == {"kind": "learning_curve", "alphas": [1.0]}
    assert result_store.exists(redis, "lc-x") and 95 <= result_store.ttl(redis, "lc-x") <= 100
    result_store.delete(redis, "lc-x")
    assert result_store.get(redis, "lc-x") is None


def test_renderings_expire_with_their_result_and_go_with_it(redis):
    result_store.put(redis, "pd-y", "{}", ttl=50)
    result_store.put_rendering(redis, "pd-y", "png", b"\x89PNG")
    assert result_store.get_rendering(redis, "pd-y", "png") == b"\x89PNG"
    assert 45 <= redis.ttl(keys.plot("pd-y", "png")) <= 50
    result_store.put_rendering(redis, "pd-y", "svg", b"<svg/>")
    result_store.delete(redis, "pd-y")  # e.g. an incomplete diagram about to be recomputed: no stale picture stays
    assert result_store.get_rendering(redis, "pd-y", "png") is None and result_store.get_rendering(redis, "pd-y", "svg") is None


def test_raw_bytes_digest_and_finality(redis):
    result_store.put(redis, "pd-z", '{"kind":"phase_diagram","complete":false}', ttl=50)
    assert result_store.raw(redis, "pd-z") == b'{"kind":"phase_diagram","complete":false}'
    assert result_store.raw(redis, "pd-q") is None
    assert result_store.digest(b"abc") == "ba7816bf8f01cfea414140de5dae2223" and len(result_store.digest(b"")) == 32
    assert not result_store.is_final(b'{"complete": false}') and not result_store.is_final(b'{"complete" :\n false}')
    assert result_store.is_final(b'{"complete":true}') and result_store.is_final(b'{"kind":"learning_curve"}')
