"""The Redis cache, failing safe when Redis is unreachable.

Most of what the cache holds can be computed again (public counters, the dashboard's facts), so a
failed read is a miss and a failed write is dropped, with a warning: the page still answers. A
failed `add` reports "not added", so cache locks refuse rather than let two holders in. The
log-in rate limits cannot fail open, since an attacker could then guess passwords without limit
while Redis is down: for their keys a failure raises `CacheUnavailable`, which
`config.resilience` turns into a page saying that logging in is briefly unavailable.
"""

import logging

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# allauth's rate-limit keys and their locks (allauth.core.internal.ratelimit.get_cache_key).
STRICT_PREFIXES = ("allauth:rl:",)


class CacheUnavailable(Exception):
    """A cache key that must not fail open could not be read or written."""


def _is_strict(keys) -> bool:
    keys = [keys] if isinstance(keys, str) else list(keys)
    return any(str(k).startswith(STRICT_PREFIXES) for k in keys)


def _fail_safe(name: str, fallback):
    def method(self, keys, *args, **kwargs):
        try:
            return getattr(RedisCache, name)(self, keys, *args, **kwargs)
        except (RedisError, OSError) as exc:
            if _is_strict(keys):
                raise CacheUnavailable(f"cache {name} failed: {exc}") from exc
            log.warning("Cache %s failed (%s); carrying on without the cache", name, exc)
            return fallback(keys, args, kwargs)

    method.__name__ = name
    return method


class ReusingRedisClient(RedisCacheClient):
    """Django's Redis client, keeping one `redis.Redis` per connection pool instead of making a
    new one at every call: making one copies its ~170 response callbacks, a third of a
    millisecond of CPU for each cache read (the session, at every signed-in request). A
    `redis.Redis` is safe to share between threads; its pool hands out the connections."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client


class FailSafeRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisClient
        self._scripts = {}

    def redis_script(self, source: str):
        """A Lua script (`redis.commands.core.Script`) on this cache's Redis: call it with
        `keys` made by `make_and_validate_key` and `args`; it runs atomically. One per script
        and client: registering it per call costs more than the round trip. Raises RedisError or
        OSError when Redis is unreachable (the caller decides what that means)."""
        client = self._cache.get_client(write=True)
        script = self._scripts.get((id(client), source))
        if script is None:
            script = self._scripts[(id(client), source)] = client.register_script(source)
        return script

    get = _fail_safe("get", lambda keys, args, kw: args[0] if args else kw.get("default"))
    set = _fail_safe("set", lambda keys, args, kw: None)
    add = _fail_safe("add", lambda keys, args, kw: False)
    touch = _fail_safe("touch", lambda keys, args, kw: False)
    delete = _fail_safe("delete", lambda keys, args, kw: False)
    has_key = _fail_safe("has_key", lambda keys, args, kw: False)
    get_many = _fail_safe("get_many", lambda keys, args, kw: {})
    set_many = _fail_safe("set_many", lambda data, args, kw: list(data))
    delete_many = _fail_safe("delete_many", lambda keys, args, kw: None)

    def clear(self):
        try:
            return super().clear()
        except (RedisError, OSError) as exc:
            log.warning("Cache clear failed (%s)", exc)
            return False

    def ping(self) -> bool:
        """For the readiness check: raises when Redis does not answer."""
        return self._cache.get_client(write=True).ping()
