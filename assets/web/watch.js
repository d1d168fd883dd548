// The public watch page: plays a live stream's HLS output with hls.js, or
// natively where the browser plays HLS itself (Safari).
(function () {
  "use strict";
  var id = location.pathname.split("/").filter(Boolean).pop();
  var src = "/hls/" + encodeURIComponent(id) + "/index.m3u8";
  var video = document.getElementById("video");
  var status = document.getElementById("status");
  var dot = document.getElementById("dot");
  var hls = null;

  function say(text, live) {
    status.textContent = text;
    dot.classList.toggle("live", !!live);
  }

  // The playlist answers 404 while the stream is idle: ask again later.
  function start() {
    fetch(src, { method: "GET", cache: "no-store" }).then(function (r) {
      if (!r.ok) {
        say("The stream is not live yet. This page starts playing when it is.");
        setTimeout(start, 3000);
        return;
      }
      play();
    }).catch(function () {
      say("The studio cannot be reached. Trying again…");
      setTimeout(start, 3000);
    });
  }

  // The start's looks at the latency (settle): firstPlaying is when the
  // picture first played; startStalled says hls.js stalled within
  // startPeriod of it.
  var firstPlaying = 0, startStalled = false, settleTimer = 0;
  var startPeriod = 8000;

  function settle() {
    // Not after the viewer moved the picture (a rewind just after the
    // start, when hls.js's latency still says where it was).
    if (!hls || !hls.liveSyncPosition || moved) return;
    // Still waiting for data: the next "playing" looks again.
    if (video.seeking || video.readyState < 3) return;
    // A stall while starting (hls.js began playing with little buffered)
    // makes hls.js aim a second further back for the whole visit, as it
    // does for a slow network: aim at the studio's PART-HOLD-BACK again
    // (a later stall still adds to it).
    var level = hls.levels[hls.currentLevel];
    if (startStalled && level && level.details && level.details.partHoldBack > 0) {
      hls.targetLatency = level.details.partHoldBack;
    }
    startStalled = false;
    var behind = hls.latency - hls.targetLatency;
    if (behind > 0.35 && behind < 3) video.currentTime = hls.liveSyncPosition - 0.1;
  }

  // hls.js starts a little further back than it aims to play (it picks the
  // start from the playlist at hand, then fetches and buffers), and speeds
  // up to catch up only with more than a second buffered: 1.5 s after the
  // picture plays (first, or again after a wait) while starting, a player
  // still well behind its target (but near the edge: not a viewer who
  // rewound) jumps there. The jump's own wait looks once more, finding it
  // there.
  video.addEventListener("playing", function () {
    var now = performance.now();
    if (!firstPlaying) firstPlaying = now;
    if (now - firstPlaying > startPeriod) return;
    clearTimeout(settleTimer);
    settleTimer = setTimeout(settle, 1500);
  });

  function play() {
    if (window.Hls && Hls.isSupported()) {
      // maxLiveSyncPlaybackRate: a player that fell behind the studio's
      // PART-HOLD-BACK plays a little faster (at most 1.5×, pitch kept)
      // until it is back; hls.js does so only within a target duration of
      // the edge, never for a viewer who rewound on purpose.
      hls = new Hls({ lowLatencyMode: true, backBufferLength: 30, maxLiveSyncPlaybackRate: 1.5 });
      hls.on(Hls.Events.LEVEL_SWITCHED, function () { switches++; });
      hls.on(Hls.Events.MANIFEST_PARSED, function () {
        say("Live", true);
        video.play().catch(function () {});
      });
      // A playlist offering delta updates keeps a DVR window: show the bar.
      hls.on(Hls.Events.LEVEL_LOADED, function (_, data) {
        dvrOffered = !!(data.details && data.details.canSkipUntil > 0);
      });
      hls.on(Hls.Events.ERROR, function (_, data) {
        if (data.details === Hls.ErrorDetails.BUFFER_STALLED_ERROR) {
          stalls++;
          if (!firstPlaying || performance.now() - firstPlaying < startPeriod) startStalled = true;
        }
        if (!data.fatal) return;
        say("Playback stopped (" + data.details + "). Reconnecting…");
        hls.destroy();
        hls = null;
        setTimeout(start, 3000);
      });
      hls.loadSource(src);
      hls.attachMedia(video);
    } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = src;
      video.addEventListener("loadedmetadata", function () { say("Live", true); });
      video.play().catch(function () {});
    } else {
      say("This browser cannot play HLS.");
    }
  }

  // The rewind bar: shown when the stream keeps a DVR window (the playlist
  // reaches further back than a live edge), so viewers can seek back in it.
  var dvr = document.getElementById("dvr");
  var seek = document.getElementById("seek");
  var behindText = document.getElementById("behind");
  var dragging = false;
  // dvrOffered: the studio says the stream keeps a DVR window (hls.js reads
  // it from the playlist); a native player (Safari) goes by how far back the
  // playlist reaches.
  var dvrOffered = false;
  var moved = false; // the viewer moved the picture (rewind, Go live)

  function range() {
    var s = video.seekable;
    if (!s || s.length === 0) return null;
    return { start: s.start(0), end: s.end(s.length - 1) };
  }

  // The live edge as the player targets it (a little behind the end).
  function liveEdge(r) {
    if (hls && hls.liveSyncPosition) return Math.min(hls.liveSyncPosition, r.end);
    return Math.max(r.start, r.end - 3);
  }

  function clock(sec) {
    sec = Math.round(sec);
    var h = Math.floor(sec / 3600), m = Math.floor(sec / 60) % 60, s = sec % 60;
    var ms = (h > 0 ? h + ":" + (m < 10 ? "0" : "") : "") + m + ":" + (s < 10 ? "0" : "") + s;
    return ms;
  }

  // Seconds the picture is behind the live edge (0 at the edge).
  function behind() {
    var r = range();
    return r ? Math.max(0, liveEdge(r) - video.currentTime) : 0;
  }

  // seekBehind moves the picture sec seconds behind the live edge, within
  // what the playlist keeps.
  function seekBehind(sec) {
    var r = range();
    if (!r) return;
    moved = true;
    video.currentTime = Math.max(r.start + 0.5, Math.min(liveEdge(r), liveEdge(r) - sec));
    video.play().catch(function () {});
  }

  function showDVR() {
    var r = range();
    var offered = hls ? dvrOffered : (r && r.end - r.start >= 60);
    if (!r || !offered || r.end - r.start < 10) { dvr.hidden = true; return; }
    dvr.hidden = false;
    var span = liveEdge(r) - r.start;
    seek.max = String(Math.floor(span));
    var b = behind();
    if (!dragging) seek.value = String(Math.round(span - b));
    var atEdge = b < 4;
    behindText.textContent = atEdge ? "Live" : clock(b) + " behind live";
    behindText.classList.toggle("live", atEdge);
  }

  seek.addEventListener("input", function () { dragging = true; });
  seek.addEventListener("change", function () {
    dragging = false;
    var r = range();
    if (r) seekBehind(liveEdge(r) - r.start - Number(seek.value));
  });
  document.getElementById("back").addEventListener("click", function () { seekBehind(behind() + 30); });
  document.getElementById("live").addEventListener("click", function () { seekBehind(0); });
  video.addEventListener("timeupdate", showDVR);
  setInterval(showDVR, 1000);

  // For tests and curious viewers: the rewind window (seconds the playlist
  // keeps), where the picture is in it, and a seek that a drag of the bar
  // makes.
  window.onairDVR = function () {
    var r = range();
    return r ? { kept: r.end - r.start, behind: behind(), time: video.currentTime, paused: video.paused } : null;
  };
  window.onairRewind = seekBehind;

  // For tests and curious viewers: how far behind live the picture is, in
  // seconds (the clock now minus the program date-time of the frame on
  // screen), or null before it is known.
  window.onairLatency = function () {
    return hls && hls.playingDate ? (Date.now() - hls.playingDate.getTime()) / 1000 : null;
  };

  // For tests and curious viewers: the rendition playing (its height),
  // the heights on offer, the level switches and the stalls so far (the
  // picture waiting for data after it had started; not the wait a seek
  // makes: the viewer's rewinds, the start's one jump to the live edge).
  var stalls = 0, switches = 0;
  video.addEventListener("waiting", function () { if (video.currentTime > 0 && !video.seeking) stalls++; });
  window.onairLevel = function () {
    if (!hls || hls.currentLevel < 0 || !hls.levels[hls.currentLevel]) return null;
    return {
      height: hls.levels[hls.currentLevel].height,
      heights: hls.levels.map(function (l) { return l.height; }),
      stalls: stalls,
      switches: switches
    };
  };

  // For tests and curious viewers: how many frames were decoded.
  window.onairFrames = function () {
    var q = video.getVideoPlaybackQuality ? video.getVideoPlaybackQuality() : null;
    return q ? q.totalVideoFrames : (video.webkitDecodedFrameCount || 0);
  };
  start();
})();
