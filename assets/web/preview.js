// The studio's preview page: WHEP (an SDP offer POSTed, the answer back)
// in plain JavaScript. It uses the token in the address (#token=…) that
// the studio minted, or asks for the API key and secret.
(function () {
  "use strict";
  var id = location.pathname.split("/").filter(Boolean).pop();
  var cloud = new URLSearchParams(location.search).get("cloud") || "local";
  var endpoint = "/v2/video/" + encodeURIComponent(cloud) + "/live_streams/" + encodeURIComponent(id) + "/whep";
  var video = document.getElementById("video");
  var status = document.getElementById("status");
  var warning = document.getElementById("warning");
  var dot = document.getElementById("dot");
  var form = document.getElementById("login");
  var sound = document.getElementById("sound");
  var note = document.getElementById("note");
  var auth = null;
  var pc = null;
  var session = null;

  function say(text, live) {
    status.textContent = text;
    dot.classList.toggle("live", !!live);
  }

  var token = new URLSearchParams(location.hash.slice(1)).get("token");
  if (token) {
    auth = "Bearer " + token;
    history.replaceState(null, "", location.pathname + location.search); // keep it out of the history
    connect();
  } else {
    form.hidden = false;
    video.hidden = true;
    say("Sign in to open the preview.");
  }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    auth = "Basic " + btoa(document.getElementById("key").value + ":" + document.getElementById("secret").value);
    form.hidden = true;
    connect();
  });

  function gathered(pc) {
    return new Promise(function (resolve) {
      if (pc.iceGatheringState === "complete") return resolve();
      pc.addEventListener("icegatheringstatechange", function () {
        if (pc.iceGatheringState === "complete") resolve();
      });
      setTimeout(resolve, 2000);
    });
  }

  function connect() {
    video.hidden = false;
    say("Connecting…");
    pc = new RTCPeerConnection();
    pc.addTransceiver("video", { direction: "recvonly" });
    pc.addTransceiver("audio", { direction: "recvonly" });
    pc.ontrack = function (ev) {
      if (ev.track.kind === "audio" && video.srcObject) {
        video.srcObject.addTrack(ev.track);
        return;
      }
      video.srcObject = ev.streams[0] || new MediaStream([ev.track]);
      video.play().catch(function () {});
      if (video.requestVideoFrameCallback) {
        video.requestVideoFrameCallback(function (now) { window.onairFirstFrameAt = now; });
      }
    };
    pc.onconnectionstatechange = function () {
      if (pc.connectionState === "connected") say("Live preview", true);
      if (pc.connectionState === "failed" || pc.connectionState === "closed") retry("The preview ended.");
    };
    pc.createOffer().then(function (offer) {
      return pc.setLocalDescription(offer);
    }).then(function () {
      return gathered(pc);
    }).then(function () {
      return fetch(endpoint, {
        method: "POST",
        headers: { "Content-Type": "application/sdp", "Authorization": auth },
        body: pc.localDescription.sdp
      });
    }).then(function (r) {
      if (r.status === 401) {
        // Trying again cannot help: stop, say why, offer the sign-in.
        form.hidden = false;
        throw final(auth.indexOf("Bearer ") === 0
          ? "This preview link has expired (links last 10 minutes): open the preview again from the studio, or sign in with the API key and secret."
          : "Wrong API key or secret.");
      }
      if (r.status === 429) {
        throw final("Too many failed sign-ins from this computer: wait " + (r.headers.get("Retry-After") || "30") +
          " s, then reload the page.");
      }
      if (r.status !== 201) {
        return r.json().then(function (b) {
          throw new Error((b.error && b.error.message) || ("The studio answered " + r.status));
        });
      }
      session = r.headers.get("Location");
      var w = r.headers.get("X-OnAir-Warning");
      if (w) { warning.textContent = w; warning.hidden = false; }
      return r.text().then(function (sdp) {
        return pc.setRemoteDescription({ type: "answer", sdp: sdp }).then(function () {
          window.onairAnsweredAt = performance.now();
          var hasSound = /opus\/48000/i.test(sdp);
          sound.hidden = !hasSound;
          if (!hasSound) {
            note.textContent = "The preview is within a fraction of a second of the encoder. It has no sound: " +
              "the studio makes it with FFmpeg, which is not installed there (see Settings in the studio).";
          }
        });
      });
    }).catch(function (err) {
      if (err.final) {
        end();
        video.hidden = true; // the message, under the sign-in, is what matters now
        say(err.message);
        return;
      }
      retry(err.message || String(err));
    });
  }

  // final is an error that trying again cannot mend.
  function final(message) {
    var e = new Error(message);
    e.final = true;
    return e;
  }

  var retrying = false;
  function retry(why) {
    if (retrying) return;
    retrying = true;
    say(why + " Trying again in 3 s…");
    end();
    setTimeout(function () {
      retrying = false;
      if (form.hidden) connect();
    }, 3000);
  }

  function end() {
    if (session) {
      fetch(session, { method: "DELETE", headers: { "Authorization": auth }, keepalive: true }).catch(function () {});
      session = null;
    }
    if (pc) { pc.close(); pc = null; }
  }
  window.addEventListener("pagehide", end);

  // The sound starts muted (a page may not play sound aloud on its own);
  // the button turns it on and off.
  sound.addEventListener("click", function () {
    video.muted = !video.muted;
    if (!video.muted) video.play().catch(function () {});
    sound.textContent = video.muted ? "Sound off" : "Sound on";
    sound.setAttribute("aria-pressed", String(!video.muted));
  });

  // For tests (with onairAnsweredAt and onairFirstFrameAt, set above: when
  // the WHEP answer was applied and the first picture shown, in
  // performance.now() milliseconds): a counter of the video receiver's
  // statistics, 0 before any.
  function stat(kind, field) {
    if (!pc) return Promise.resolve(0);
    return pc.getStats().then(function (stats) {
      var n = 0;
      stats.forEach(function (s) {
        if (s.type === "inbound-rtp" && s.kind === kind) n = s[field] || 0;
      });
      return n;
    });
  }
  function videoStat(field) { return stat("video", field); }
  // Frames received so far (before decoding), and frames decoded.
  window.onairFramesReceived = function () { return videoStat("framesReceived"); };
  window.onairFrames = function () { return videoStat("framesDecoded"); };
  window.onairKeyFrames = function () { return videoStat("keyFramesDecoded"); };
  // The sound: packets received, and the energy of what was decoded
  // (0 for silence), and whether the page plays it aloud.
  window.onairSound = function () {
    return Promise.all([stat("audio", "packetsReceived"), stat("audio", "totalAudioEnergy")]).then(function (v) {
      return { packets: v[0], energy: v[1], muted: video.muted, button: !sound.hidden };
    });
  };
})();
