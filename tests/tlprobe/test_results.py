"""The result store: what is put is got back, renderings live and die with their result."""

from tlprobe import keys, results


def test_put_get_ttl_delete(redis):
    assert results.get(redis, "lc-x") is None and not results.exists(redis, "lc-x") and results.ttl(redis, "lc-x") is None
    results.put(redis, "lc-x", '{"kind": "learning_curve", "alphas": [1.0]}', ttl=100)
    assert results.get(redis, "lc-x") == {"kind": "learning_curve", "alphas": [1.0]}
    assert results.exists(redis, "lc-x") and 95 <= results.ttl(redis, "lc-x") <= 100
    results.delete(redis, "lc-x")
    assert results.get(redis, "lc-x") is None


def test_renderings_expire_with_their_result_and_go_with_it(redis):
    results.put(redis, "pd-y", "{}", ttl=50)
    results.put_rendering(redis, "pd-y", "png", b"\x89PNG")
    assert results.get_rendering(redis, "pd-y", "png") == b"\x89PNG"
    assert 45 <= redis.ttl(keys.plot("pd-y", "png")) <= 50
    results.put_rendering(redis, "pd-y", "svg", b"<svg/>")
    results.delete(redis, "pd-y")  # e.g. an incomplete diagram about to be recomputed: no stale picture stays
    assert results.get_rendering(redis, "pd-y", "png") is None and results.get_rendering(redis, "pd-y", "svg") is None


def test_raw_bytes_digest_and_finality(redis):
    results.put(redis, "pd-z", '{"kind":"phase_diagram","complete":false}', ttl=50)
    assert results.raw(redis, "pd-z") == b'{"kind":"phase_diagram","complete":false}' and results.raw(redis, "pd-q") is None
    assert results.digest(b"abc") == "ba7816bf8f01cfea414140de5dae2223" and len(results.digest(b"")) == 32
    assert not results.is_final(b'{"complete": false}') and not results.is_final(b'{"complete" :\n false}')
    assert results.is_final(b'{"complete":true}') and results.is_final(b'{"kind":"learning_curve"}')
