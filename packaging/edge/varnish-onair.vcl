vcl 4.1;
# A Varnish edge in front of OnAir Studio: viewers fetch HLS here, the
# studio (the origin) serves each file about once per edge. Set the
# backend's host and port to the studio's and start varnishd with
# -f this-file. Varnish keeps what the studio's Cache-Control allows; a
# blocking playlist request (_HLS_msn/_HLS_part) is held by the studio until
# its part exists, at most three target durations plus 2 s (8 s with 2 s
# segments), and concurrent requests for the same URL wait for the first
# (Varnish's waiting list), so first_byte_timeout must exceed that hold.

backend origin {
    .host = "ORIGIN_HOST";
    .port = "ORIGIN_PORT";
    .first_byte_timeout = 15s;
    .between_bytes_timeout = 10s;
}

sub vcl_recv {
    if (req.url ~ "^/hls/") {
        unset req.http.Cookie;
        # The whole URL, query included, is the key (Varnish's default).
        return (hash);
    }
    return (pass);
}

sub vcl_backend_response {
    if (bereq.url ~ "^/hls/") {
        unset beresp.http.Set-Cookie;
        if (beresp.status >= 400) {
            # "Not yet" or "idle" must not stick: no-store from the origin.
            set beresp.ttl = 0s;
            set beresp.uncacheable = true;
            return (deliver);
        }
        # No grace for playlists: a stale playlist would send players back.
        if (bereq.url ~ "\.m3u8") {
            set beresp.grace = 0s;
        }
    }
}

sub vcl_deliver {
    if (obj.hits > 0) {
        set resp.http.X-Cache-Status = "HIT";
    } else {
        set resp.http.X-Cache-Status = "MISS";
    }
}
