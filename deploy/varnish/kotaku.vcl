# Varnish (Debian `varnish`, 7.1) in front of one or more `kotaku serve` hosts: a shared HTTP cache for tiles,
# items and static files, correct per caller scope. docs/scaling.md explains it; tests/e2e/test_varnish.py proves it.
#
#   varnishd -F -a 127.0.0.1:6081 -f /path/to/kotaku.vcl -n /tmp/varnish-kotaku -s malloc,256m
#
# What the app sends (layers/serving/versions.py, api/conditional.py, maps/tile_flow.py):
#   anonymous answers:   ETag (data versions of the layers read) + "Cache-Control: public, no-cache"
#   a logged-in caller:  "Cache-Control: private, no-cache" (never stored here)
#   both:                "Vary: Authorization, Cookie"
# "no-cache" means: keep it, but ask the origin before each use. This VCL keeps such an object with a 1 ms ttl and a
# long `keep`, so every request becomes a conditional fetch (If-None-Match: the stored ETag). The app answers 304
# after reading the layer versions only (no tile or item query, no body), and Varnish sends its stored body.
# An edit bumps a layer version, the ETag changes, and the very next request gets the new answer.
# SHARED_TTL below trades that for throughput: objects are served without asking for that long (an edit may
# then take up to SHARED_TTL to show through the cache). bench/varnish.py measures both.

vcl 4.1;


# One host; for several, one backend each and a round-robin director (import directors; see docs/scaling.md).
backend default {
    .host = "127.0.0.1";
    .port = "8000";
    .connect_timeout = 2s;
    .first_byte_timeout = 60s;
    .between_bytes_timeout = 30s;
}

sub vcl_recv {
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);  # writes go straight through
    }
    # Credentials: the answer depends on who asks. Never looked up, never stored.
    if (req.http.Authorization || req.http.Cookie ~ "(^|;\s*)kotaku_session=") {
        return (pass);
    }
    # kotaku sets no other cookie and no answer depends on one: drop them so anonymous answers can be shared.
    unset req.http.Cookie;
    return (hash);
}

sub vcl_backend_response {
    if (bereq.uncacheable) {
        return (deliver);
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
    if (beresp.http.ETag && beresp.http.Cache-Control ~ "(?i)no-cache") {
        # SHARED_TTL: 1ms = revalidate every request (edits show at once). Not 0s: Varnish's lookup skips objects
        # whose ttl is 0 (that is how it kills them), and then there is no stored copy to revalidate.
        set beresp.ttl = 1ms;  # SHARED_TTL
        set beresp.grace = 0s;
        set beresp.keep = 24h;  # kept for conditional fetches (If-None-Match) while nothing changed
        return (deliver);
    }
    if (bereq.url ~ "^/static/" && beresp.status == 200 && !beresp.http.Cache-Control) {
        set beresp.ttl = 1h;  # the app's own scripts and styles; a deploy restarts or bans
        set beresp.http.Cache-Control = "public, max-age=3600";
        return (deliver);
    }
}

sub vcl_deliver {
    if (obj.uncacheable) {
        set resp.http.X-Cache = "PASS";
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
