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

  function play() {
    if (window.Hls && Hls.isSupported()) {
      hls = new Hls({ lowLatencyMode: true, backBufferLength: 30 });
      hls.on(Hls.Events.MANIFEST_PARSED, function () {
        say("Live", true);
        video.play().catch(function () {});
      });
      hls.on(Hls.Events.ERROR, function (_, data) {
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

  // For tests and curious viewers: how far behind live the picture is, in
  // seconds (the clock now minus the program date-time of the frame on
  // screen), or null before it is known.
  window.onairLatency = function () {
    return hls && hls.playingDate ? (Date.now() - hls.playingDate.getTime()) / 1000 : null;
  };

  // For tests and curious viewers: how many frames were decoded.
  window.onairFrames = function () {
    var q = video.getVideoPlaybackQuality ? video.getVideoPlaybackQuality() : null;
    return q ? q.totalVideoFrames : (video.webkitDecodedFrameCount || 0);
  };
  start();
})();
