// The live player (media feature): hls.js with low-latency settings, native HLS where
// hls.js cannot run (iOS Safari), and four states people can read: offline (not on air),
// starting (on air, waiting for the first segments), live, ended. A stall recovers by
// itself: hls.js errors are retried, a frozen picture is nudged back to the live edge.
(function () {
  "use strict";
  var POLL_MS = 4000; // show status while waiting for the stream or watching
  var STALL_MS = 6000; // no progress this long while playing: reload the source

  function Player(box) {
    this.box = box;
    this.video = box.querySelector("video");
    this.state = box.querySelector("[data-testid=player-state]");
    this.msg = this.state.querySelector(".lb-msg");
    this.showId = box.dataset.showId;
    this.status = box.dataset.status;
    this.src = box.dataset.hlsUrl || "";
    this.hls = null;
    this.lastTime = -1;
    this.lastProgress = Date.now();
    var stage = document.getElementById("player");
    if (stage && !stage.contains(box)) { stage.appendChild(box); }
  }

  Player.prototype.set = function (state) {
    if (this.state.dataset.state === state) { return; }
    this.state.dataset.state = state;
    this.box.dataset.state = state;
    var label = this.box.dataset["t" + state.charAt(0).toUpperCase() + state.slice(1)];
    this.msg.textContent = label || state;
    var link = this.state.querySelector("a");
    if (state === "ended" && !link) {
      link = document.createElement("a");
      link.className = "btn small";
      link.href = this.box.dataset.replay;
      link.dataset.testid = "replay-link";
      link.textContent = this.box.dataset.tReplay;
      this.state.appendChild(link);
    }
  };

  Player.prototype.attach = function () {
    var self = this;
    if (!this.src || this.hls || this.video.src) { return; }
    var Hls = window.Hls;
    if (Hls && Hls.isSupported()) {
      var hls = new Hls({
        lowLatencyMode: true,
        liveSyncDurationCount: 2, // two 1 s fragments behind the edge: ~2.5 s push→screen
        liveMaxLatencyDurationCount: 5,
        maxLiveSyncPlaybackRate: 1.5,
        backBufferLength: 10,
        manifestLoadingMaxRetry: 1000,
        manifestLoadingRetryDelay: 1000,
        levelLoadingMaxRetry: 1000,
        fragLoadingMaxRetry: 10,
      });
      this.hls = hls;
      hls.on(Hls.Events.ERROR, function (_e, data) {
        if (!data.fatal) { return; }
        if (data.type === Hls.ErrorTypes.MEDIA_ERROR) { hls.recoverMediaError(); return; }
        // Network: the playlist is not there yet (starting) or went away; try again.
        self.set(self.status === "ended" ? "ended" : "starting");
        setTimeout(function () { if (self.hls === hls) { hls.loadSource(self.src); } }, 1500);
      });
      hls.loadSource(this.src);
      hls.attachMedia(this.video);
    } else if (this.video.canPlayType("application/vnd.apple.mpegurl")) {
      this.video.src = this.src; // native HLS
    } else {
      return;
    }
    this.video.addEventListener("playing", function () { if (self.status !== "ended") { self.set("live"); } });
    this.video.addEventListener("waiting", function () { if (self.status === "live") { self.set("starting"); } });
    this.video.addEventListener("error", function () {
      if (self.status === "live" && !self.hls) {
        setTimeout(function () { self.video.src = self.src; self.video.load(); }, 1500);
      }
    });
    var p = this.video.play();
    if (p && p.catch) { p.catch(function () {}); }
  };

  Player.prototype.detach = function () {
    if (this.hls) { this.hls.destroy(); this.hls = null; }
  };

  Player.prototype.watchdog = function () {
    if (this.status !== "live" || !this.src) { return; }
    var t = this.video.currentTime;
    if (t !== this.lastTime) { this.lastTime = t; this.lastProgress = Date.now(); return; }
    if (Date.now() - this.lastProgress > STALL_MS && !this.video.paused) {
      this.lastProgress = Date.now();
      this.set("stalled");
      if (this.hls) {
        this.hls.stopLoad();
        this.hls.startLoad(-1); // from the live edge
      } else {
        this.video.src = this.src;
        this.video.load();
        this.video.play();
      }
    }
  };

  Player.prototype.update = function (status) {
    this.status = status;
    this.box.dataset.status = status;
    if (status === "live") {
      if (this.state.dataset.state !== "live") { this.set("starting"); }
      this.attach();
    } else if (status === "ended") {
      // nginx-rtmp never ends its playlist: the show's status does.
      this.detach();
      this.video.removeAttribute("src");
      this.set("ended");
    } else {
      this.set("offline");
    }
  };

  Player.prototype.poll = function () {
    var self = this;
    fetch("/api/v1/shows/" + encodeURIComponent(this.showId), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (show) {
        if (!show) { return; }
        if (show.hls_url) { self.src = show.hls_url; }
        if (show.status !== self.status || (show.status === "live" && !self.hls && !self.video.src)) {
          self.update(show.status);
        }
      })
      .catch(function () {});
  };

  Player.prototype.start = function () {
    var self = this;
    this.poll();
    this.update(this.status);
    setInterval(function () { if (self.status !== "ended") { self.poll(); } }, POLL_MS);
    setInterval(function () { self.watchdog(); }, 1000);
    // The room's `show` frame (room.js re-dispatches frames as DOM events) is faster
    // than the poll.
    document.addEventListener("livebase:frame", function (e) {
      var f = e.detail || {};
      if (f.t === "show" && f.d && f.d.status) { self.update(f.d.status); }
    });
  };

  function boot() {
    var boxes = document.querySelectorAll("[data-lb-player]");
    for (var i = 0; i < boxes.length; i++) {
      var p = new Player(boxes[i]);
      boxes[i].lbPlayer = p;
      p.start();
    }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", boot); } else { boot(); }
})();
