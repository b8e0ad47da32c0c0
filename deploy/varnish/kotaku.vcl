# Varnish (Debian `varnish`, 7.1) in front of one or more `kotaku serve` hosts: a shared HTTP cache for tiles,
# items and static files, correct per caller scope. docs/scaling.md explains it; tests/e2e/test_varnish.py proves it.
#
#   varnishd -F -a 127.0.0.1:6081 -f /path/to/kotaku.vcl -n /tmp/varnish-kotaku -s malloc,256m
#
# What the app sends (layers/serving/versions.py, api/conditional.py, maps/tile_flow.py):
#   anonymous answers:   ETag (data versions of the layers read) + "Cache-Control: public, no-cache"
#   a logged-in caller:  "Cache-Control: private, no-cache" (never stored here)
#   both:                "Vary: Authorization, Cookie"
#   tiles and items:     "X-Kotaku-Layers: activities slum-areas" (the layers their ETag depends on)
# An answer with an ETag and X-Kotaku-Layers is kept for SHARED_TTL (1 h) and served without asking the origin.
# A write that changes a layer makes the app (api/cache_purge.py; the command line too) send, before it answers,
#   BAN /  with  "X-Kotaku-Ban: activities"
# to every Varnish (KOTAKU_CACHE_PURGE_URLS); this VCL then drops every object tagged with one of those layers, so
# the next request gets the new answer. BAN is accepted from the `purgers` ACL only.
# Other "no-cache" answers with an ETag keep a 1 ms ttl and a long `keep`: every request becomes a conditional
# fetch (If-None-Match: the stored ETag), the app answers 304 from the layer versions alone (no body).
# bench/varnish.py measures both; tests/e2e/test_varnish.py proves the edit shows on the next request.

vcl 4.1;

import std;

# Who may send BAN: the API hosts and the command line's machines (loopback here; add the hosts' addresses).
acl purgers {
    "127.0.0.1";
    "::1";
}


# Is the host's process serving? A static file: no database. A database outage (a primary restart) must not mark
# every host sick at once (Varnish would then answer every miss 503 without asking); the hosts answer it themselves
# (from a replica, or 503, which the stale-if-error logic below covers). A stopped host fails 2 probes of 3: left
# out within about 2 s, and requests sent to it in between are retried on another host (vcl_backend_error).
probe alive {
    .url = "/static/kotaku/favicon.svg";
    .interval = 1s;
    .timeout = 2s;
    .window = 3;
    .threshold = 2;
    .initial = 2;  # healthy from the start
}

# One host; for several, one backend each (same probe) and a round-robin director (import directors; see
# docs/scaling.md and tests/e2e/varnish.py `round_robin`).
backend default {
    .host = "127.0.0.1";
    .port = "8000";
    .connect_timeout = 2s;
    .first_byte_timeout = 60s;
    .between_bytes_timeout = 30s;
    .probe = alive;
}

sub vcl_recv {
    if (req.restarts == 0) {
        unset req.http.X-Kotaku-Stale;  # set only by vcl_synth below, never by a client
        unset req.http.X-Kotaku-Lookup;
        unset req.http.X-Kotaku-Grace;
    }
    if (req.method == "BAN") {
        if (client.ip !~ purgers) {
            return (synth(405, "BAN not allowed from this address"));
        }
        if (req.http.X-Kotaku-Ban !~ "^[a-z0-9_-]+( [a-z0-9_-]+)*$") {
            return (synth(400, "X-Kotaku-Ban: layer names separated by spaces"));
        }
        # obj.http only: the ban lurker can drop matching objects in the background as well
        # The regex unquoted and without spaces: std.ban splits its argument on spaces and keeps quotes literally.
        if (std.ban("obj.http.X-Kotaku-Layers ~ (^|[^a-z0-9_-])(" + regsuball(req.http.X-Kotaku-Ban, " ", "|") +
                    ")([^a-z0-9_-]|$)")) {
            return (synth(200, "Banned"));
        }
        return (synth(400, std.ban_error()));
    }
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);  # writes go straight through
    }
    # Credentials: the answer depends on who asks. Never looked up, never stored.
    if (req.http.Authorization || req.http.Cookie ~ "(^|;\s*)kotaku_session=") {
        return (pass);
    }
    # kotaku sets no other cookie and no answer depends on one: drop them so anonymous answers can be shared.
    unset req.http.Cookie;
    # Grace: a stored copy past its ttl is served as is only while no host is healthy, or when the origin failed
    # on this very request (X-Kotaku-Stale, vcl_synth); otherwise it is fetched or revalidated first.
    if (req.http.X-Kotaku-Stale || !std.healthy(req.backend_hint)) {
        set req.grace = 24h;
    } else {
        set req.grace = 0s;
    }
    set req.http.X-Kotaku-Lookup = "1";
    return (hash);
}

sub vcl_hit {
    if (obj.ttl <= 0s) {
        set req.http.X-Kotaku-Grace = "1";  # past its ttl: a grace hit (req.grace allowed it)
    }
}

sub vcl_miss {
    if (req.http.X-Kotaku-Stale) {
        return (synth(503, "Backend fetch failed"));  # no stale copy either: do not ask the failing origin again
    }
}

sub vcl_backend_response {
    if (bereq.uncacheable) {
        return (deliver);  # passed (credentials, writes): the origin's answer, whatever it is
    }
    if (beresp.status >= 500 && (bereq.is_bgfetch || bereq.http.If-None-Match)) {
        # The origin failed (its database is down) and a stale copy exists (a background fetch, or Varnish's own
        # conditional fetch): keep the copy. The waiting client, if any, is restarted to it by vcl_synth.
        return (abandon);
    }
    if (beresp.http.Set-Cookie || beresp.http.Cache-Control ~ "(?i)(private|no-store)") {
        # hit-for-miss: remember for 2 minutes that this URL is not shareable, do not store the answer
        set beresp.uncacheable = true;
        set beresp.ttl = 120s;
        return (deliver);
    }
    if (beresp.was_304) {
        set beresp.http.X-Kotaku-Revalidated = "1";  # the origin said 304: the stored body is still current
    } else {
        unset beresp.http.X-Kotaku-Revalidated;
    }
    if (beresp.http.ETag && beresp.http.X-Kotaku-Layers && beresp.http.Cache-Control ~ "(?i)no-cache") {
        # Served unasked until a BAN of one of its layers (a write) or SHARED_TTL; then revalidated (304).
        set beresp.ttl = 1h;  # SHARED_TTL
        set beresp.grace = 24h;  # served stale only while the origin fails (vcl_recv sets req.grace)
        set beresp.keep = 24h;
        return (deliver);
    }
    if (beresp.http.ETag && beresp.http.Cache-Control ~ "(?i)no-cache") {
        # 1ms = revalidate every request (edits show at once). Not 0s: Varnish's lookup skips objects whose ttl
        # is 0 (that is how it kills them), and then there is no stored copy to revalidate.
        set beresp.ttl = 1ms;
        set beresp.grace = 24h;  # as above: stale only while the origin fails
        set beresp.keep = 24h;  # kept for conditional fetches (If-None-Match) while nothing changed
        return (deliver);
    }
    if (bereq.url ~ "^/static/" && beresp.status == 200 && !beresp.http.Cache-Control) {
        set beresp.ttl = 1h;  # the app's own scripts and styles; a deploy restarts or bans
        set beresp.http.Cache-Control = "public, max-age=3600";
        return (deliver);
    }
}

sub vcl_backend_error {
    # No answer at all (connection refused, timeout): a GET/HEAD is tried once more, on the next host of the
    # director (a host stopped since its last probe). Writes are not repeated: the first may have arrived.
    if (bereq.retries < 1 && (bereq.method == "GET" || bereq.method == "HEAD")) {
        return (retry);
    }
    if (!bereq.uncacheable && (bereq.is_bgfetch || bereq.http.If-None-Match)) {
        return (abandon);  # a stale copy exists: keep it (see vcl_backend_response)
    }
}

sub vcl_synth {
    # An abandoned fetch (the origin failed) of a shared answer: look again, accepting a stale copy (vcl_recv).
    if (resp.status == 503 && req.restarts == 0 && req.http.X-Kotaku-Lookup && !req.http.X-Kotaku-Stale) {
        set req.http.X-Kotaku-Stale = "1";
        return (restart);
    }
}

sub vcl_deliver {
    if (obj.uncacheable) {
        set resp.http.X-Cache = "PASS";
    } elsif (req.http.X-Kotaku-Stale || req.http.X-Kotaku-Grace) {
        set resp.http.X-Cache = "STALE";  # past its ttl, served because the origin failed or no host is healthy
    } elsif (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } elsif (resp.http.X-Kotaku-Revalidated) {
        set resp.http.X-Cache = "REVALIDATED";  # body from the cache, validated by a 304 of the origin
    } else {
        set resp.http.X-Cache = "MISS";
    }
    unset resp.http.X-Kotaku-Revalidated;
    unset resp.http.Via;
    unset resp.http.X-Varnish;
}
